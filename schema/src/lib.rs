//! The schema document tooling: TypeScript/zod and Rust codegen, diff, CLI (issue 5).
