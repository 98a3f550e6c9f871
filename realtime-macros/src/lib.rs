//! `#[derive(Events)]`: see `realtime-core` for the documentation.

use proc_macro::TokenStream;

/// Derives `realtime_core::Events` for an enum of events.
#[proc_macro_derive(Events, attributes(event, events, serde, schemars, validate, garde))]
pub fn derive_events(input: TokenStream) -> TokenStream {
    let _ = input;
    TokenStream::new()
}
