//! `#[derive(Events)]`: see `realtime-core` for the documentation.

mod ast;
mod attr;
mod expand;
mod valid;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives `realtime_core::Events` for an enum of events.
#[proc_macro_derive(Events, attributes(event, events, serde, schemars, validate, garde))]
pub fn derive_events(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand::derive(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
