//! What the derive expands to when the input is refused: the `compile_error!` and a stub of
//! the items it would have generated (the kind enum and `impl Events`, bodies
//! `unreachable!()`). Without the stub every use of `AppEventKind` or of `AppEvent` as
//! `Events` elsewhere in the user's crate would add an error of its own, burying the one
//! that says what to fix.

use proc_macro2::TokenStream;
use quote::quote;
use syn::ext::IdentExt;
use syn::{DeriveInput, parse_quote};

use super::kind;
use crate::ast::{self, Form, Input};

pub(crate) fn expand(
    node: &DeriveInput,
    input: Option<&Input<'_>>,
    error: &syn::Error,
) -> TokenStream {
    let error = error.to_compile_error();
    let kind_enum = kind_enum(node, input);
    let events_impl = events_impl(node);
    quote! {
        #error
        #kind_enum
        #events_impl
    }
}

/// The kind enum with the variants the input has (none when it is not an enum), so that
/// paths like `AppEventKind::Started` still resolve.
fn kind_enum(node: &DeriveInput, input: Option<&Input<'_>>) -> TokenStream {
    let vis = &node.vis;
    let kind = ast::kind_ident(&node.ident);
    let derives = kind::derives();
    let variants = input
        .into_iter()
        .flat_map(|input| &input.variants)
        .map(|variant| {
            let ident = variant.ident;
            match &variant.form {
                // Whatever type was written: the presence kind is the framework's.
                Form::Flatten(_) if variant.is_presence() => {
                    quote!(#ident(::realtime_core::__private::PresenceKind))
                }
                Form::Flatten(field) => {
                    let ty = &field.ty;
                    quote!(#ident(<#ty as ::realtime_core::Events>::Kind))
                }
                _ => quote!(#ident),
            }
        });
    quote! {
        #[allow(dead_code)]
        #derives
        #vis enum #kind {
            #(#variants,)*
        }

        impl #kind {
            #vis const ALL: &'static [Self] = &[];

            #vis fn name(self) -> &'static ::core::primitive::str {
                ::core::unreachable!()
            }

            #vis fn index(self) -> ::core::primitive::usize {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl ::realtime_core::EventKind for #kind {
            const ALL: &'static [Self] = &[];

            fn name(self) -> &'static ::core::primitive::str {
                ::core::unreachable!()
            }

            fn index(self) -> ::core::primitive::usize {
                ::core::unreachable!()
            }

            fn from_name(_: &::core::primitive::str) -> ::core::option::Option<Self> {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for #kind {
            fn fmt(&self, _: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for #kind {
            type Err = ::realtime_core::UnknownEvent;

            fn from_str(_: &::core::primitive::str) -> ::core::result::Result<Self, Self::Err> {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl ::realtime_core::__private::serde::Serialize for #kind {
            fn serialize<__S>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: ::realtime_core::__private::serde::Serializer,
            {
                ::core::unreachable!()
            }
        }

        #[automatically_derived]
        impl<'de> ::realtime_core::__private::serde::Deserialize<'de> for #kind {
            fn deserialize<__D>(_: __D) -> ::core::result::Result<Self, __D::Error>
            where
                __D: ::realtime_core::__private::serde::Deserializer<'de>,
            {
                ::core::unreachable!()
            }
        }
    }
}

/// `impl Events` for the input, with its generics. The bounds `Events` needs are written
/// as a higher-ranked where clause: a bound that does not hold (a missing `Clone`) then
/// only makes the impl unusable instead of adding an error here (trivial bounds are
/// unstable, rust-lang/rust#48214).
fn events_impl(node: &DeriveInput) -> TokenStream {
    let ident = &node.ident;
    let type_name = ident.unraw().to_string();
    let kind = ast::kind_ident(ident);
    let mut generics = node.generics.clone();
    let (_, ty_generics, _) = node.generics.split_for_impl();
    generics.make_where_clause().predicates.push(parse_quote! {
        for<'__realtime> #ident #ty_generics: ::core::clone::Clone
            + ::core::marker::Send
            + ::core::marker::Sync
            + 'static
    });
    let (impl_generics, _, where_clause) = generics.split_for_impl();
    let json = quote!(::realtime_core::__private::serde_json);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::realtime_core::Events for #ident #ty_generics #where_clause {
            type Kind = #kind;

            type Presence = ::realtime_core::__private::NoPresence;

            const TYPE_NAME: &'static ::core::primitive::str = #type_name;

            const NAMES: &'static [&'static ::core::primitive::str] = &[];

            fn kind(&self) -> #kind {
                ::core::unreachable!()
            }

            fn serialize_data<__S>(&self, _: __S) -> ::core::result::Result<__S::Ok, __S::Error>
            where
                __S: ::realtime_core::__private::serde::Serializer,
            {
                ::core::unreachable!()
            }

            fn from_data(_: &::core::primitive::str, _: #json::Value) -> ::core::result::Result<Self, ::realtime_core::DecodeError> {
                ::core::unreachable!()
            }

            fn describe(
                _: &mut ::realtime_core::__private::schemars::SchemaGenerator,
                _: &mut ::std::vec::Vec<::realtime_core::EventDefinition>,
            ) {
                ::core::unreachable!()
            }
        }
    }
}
