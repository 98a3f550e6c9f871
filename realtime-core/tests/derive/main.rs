//! `#[derive(Events)]`: names, the kind enum, data round trips for every variant form and
//! attribute, decode errors and schema snapshots, one module per topic over the event enums
//! in `fixtures`. `deny(warnings)` proves the generated code is warning-free.
#![deny(warnings)]
#![forbid(unsafe_code)]

mod fixtures;

mod data;
mod decode_errors;
mod edge_cases;
mod kind;
mod names;
mod nested;
mod schema;
