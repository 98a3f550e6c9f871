//! The generated code: the kind enum, the data mirrors and the `Events` impl.

mod fallback;
mod kind;
mod mirror;
mod probe;

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::ext::IdentExt;
use syn::{DeriveInput, Ident};

use crate::ast::{self, Form, Input, Variant};
use crate::errors::Errors;
use crate::valid;

/// The generated code, or on an error the `compile_error!` with a stub of the generated
/// items, so that uses of them elsewhere do not add follow-on errors.
pub(crate) fn derive(node: &DeriveInput) -> TokenStream {
    let mut errors = Errors::default();
    let input = Input::from_syn(node, &mut errors);
    if let Some(input) = &input {
        valid::validate(input, &mut errors);
    }
    match errors.finish() {
        Ok(()) => input.map(|input| expand(&input)).unwrap_or_default(),
        Err(error) => fallback::expand(node, input.as_ref(), &error),
    }
}

fn local(name: &str) -> Ident {
    Ident::new(name, Span::mixed_site())
}

fn expand(input: &Input<'_>) -> TokenStream {
    let ident = input.ident;
    let type_name = ident.unraw().to_string();
    let kind = ast::kind_ident(input.ident);
    let kind_items = kind::expand(input);
    let (event, data, generator, out, value, serializer) = (
        local("__event"),
        local("__data"),
        local("__generator"),
        local("__out"),
        local("__value"),
        local("__serializer"),
    );
    let serde = quote!(::realtime_core::__private::serde);

    let mut probe = probe::Probe::new(type_name.clone());
    let mut mirrors = Vec::new();
    let mut kind_arms = Vec::new();
    let mut serialize_arms = Vec::new();
    let mut from_data_arms = Vec::new();
    let mut from_json_arms = Vec::new();
    let mut describe = Vec::new();
    let mut flatten_checks = Vec::new();
    for variant in &input.variants {
        let variant_ident = variant.ident;
        let name = variant.name.as_ref().map(|name| name.value.as_str());
        let description = match &variant.doc {
            Some(doc) => quote!(::core::option::Option::Some(#doc)),
            None => quote!(::core::option::Option::None),
        };
        match &variant.form {
            Form::Unit => {
                kind_arms.push(quote!(Self::#variant_ident => #kind::#variant_ident));
                serialize_arms.push(quote! {
                    Self::#variant_ident => #serde::Serializer::serialize_unit(#serializer)
                });
                from_data_arms.push(quote! {
                    #kind::#variant_ident => {
                        ::realtime_core::__private::decode_unit(#name, &#data)?;
                        ::core::result::Result::Ok(Self::#variant_ident)
                    }
                });
                from_json_arms.push(quote! {
                    #kind::#variant_ident => {
                        ::realtime_core::__private::decode_unit_json(#name, #data)?;
                        ::core::result::Result::Ok(Self::#variant_ident)
                    }
                });
                describe.push(quote! {
                    #out.push(::realtime_core::__private::unit_definition(#name, #description));
                });
            }
            Form::Newtype(field) => {
                let ty = &field.ty;
                kind_arms.push(quote!(Self::#variant_ident(..) => #kind::#variant_ident));
                serialize_arms.push(quote! {
                    Self::#variant_ident(#value) => #serde::Serialize::serialize(#value, #serializer)
                });
                from_data_arms.push(quote! {
                    #kind::#variant_ident => {
                        ::realtime_core::__private::decode_data::<#ty>(#name, #data)
                            .map(Self::#variant_ident)
                    }
                });
                from_json_arms.push(quote! {
                    #kind::#variant_ident => {
                        ::realtime_core::__private::decode_data_json::<#ty>(#name, #data)
                            .map(Self::#variant_ident)
                    }
                });
                match probe.data(ty, &field.attrs, &generator) {
                    Some(schema) => describe.push(quote! {
                        #out.push(::realtime_core::__private::definition_with(
                            #name,
                            #description,
                            #schema,
                        ));
                    }),
                    None => describe.push(quote! {
                        #out.push(::realtime_core::__private::definition_of::<#ty>(
                            #generator,
                            #name,
                            #description,
                        ));
                    }),
                }
            }
            Form::Flatten(field) => {
                let ty = &field.ty;
                if !variant.is_presence() {
                    flatten_checks.push(quote! {
                        const _: () = ::core::assert!(
                            !<#ty as ::realtime_core::Events>::DECLARES_PRESENCE,
                            "an enum included with #[event(flatten)] declares presence; declare #[event(presence)] in the event enum the app uses, not in an enum it includes",
                        );
                    });
                }
                kind_arms.push(quote! {
                    Self::#variant_ident(#value) => #kind::#variant_ident(
                        <#ty as ::realtime_core::Events>::kind(#value),
                    )
                });
                serialize_arms.push(quote! {
                    Self::#variant_ident(#value) => {
                        <#ty as ::realtime_core::Events>::serialize_data(#value, #serializer)
                    }
                });
                from_data_arms.push(quote! {
                    #kind::#variant_ident(_) => {
                        <#ty as ::realtime_core::Events>::from_data(#event, #data)
                            .map(Self::#variant_ident)
                    }
                });
                from_json_arms.push(quote! {
                    #kind::#variant_ident(_) => {
                        <#ty as ::realtime_core::Events>::from_data_json(#event, #data)
                            .map(Self::#variant_ident)
                    }
                });
                describe.push(quote! {
                    <#ty as ::realtime_core::Events>::describe(#generator, #out);
                });
            }
            Form::Struct(fields) => {
                let mirror = mirror::mirror(input, variant, fields, &mut probe);
                mirrors.push(mirror.items);
                let (owned, borrowed) = (&mirror.owned, &mirror.borrowed);
                let field_idents: Vec<_> = fields.iter().map(|field| &field.ident).collect();
                let bindings: Vec<Ident> = (0..fields.len())
                    .map(|index| local(&format!("__field{index}")))
                    .collect();
                kind_arms.push(quote!(Self::#variant_ident { .. } => #kind::#variant_ident));
                serialize_arms.push(quote! {
                    Self::#variant_ident { #(#field_idents: #bindings),* } => {
                        #serde::Serialize::serialize(
                            &#borrowed { #(#field_idents: #bindings),* },
                            #serializer,
                        )
                    }
                });
                from_data_arms.push(quote! {
                    #kind::#variant_ident => {
                        let #value = ::realtime_core::__private::decode_data::<#owned>(#name, #data)?;
                        ::core::result::Result::Ok(Self::#variant_ident {
                            #(#field_idents: #value.#field_idents),*
                        })
                    }
                });
                from_json_arms.push(quote! {
                    #kind::#variant_ident => {
                        let #value = ::realtime_core::__private::decode_data_json::<#owned>(#name, #data)?;
                        ::core::result::Result::Ok(Self::#variant_ident {
                            #(#field_idents: #value.#field_idents),*
                        })
                    }
                });
                describe.push(quote! {
                    #out.push(::realtime_core::__private::definition_of::<#owned>(
                        #generator,
                        #name,
                        #description,
                    ));
                });
            }
            // Refused by validation before expansion.
            Form::Tuple(_) => {}
        }
    }

    let names = names(input);
    let presence_items = presence_items(input);
    // schemars' generated code names `serde::Serialize` in some cases (a field with both
    // `default` and `serialize_with`); the user's crate may not depend on serde.
    let serde_alias = (!mirrors.is_empty()).then(|| {
        quote! {
            #[allow(unused_imports)]
            use ::realtime_core::__private::serde;
        }
    });
    let distinct = input.has_flatten().then(|| {
        quote! {
            const _: () = ::realtime_core::__private::assert_distinct_names(
                #type_name,
                <#ident as ::realtime_core::Events>::NAMES,
            );
        }
    });

    quote! {
        #kind_items

        const _: () = {
            #serde_alias

            #(#mirrors)*

            #[automatically_derived]
            impl ::realtime_core::Events for #ident {
                type Kind = #kind;

                #presence_items

                const TYPE_NAME: &'static ::core::primitive::str = #type_name;

                const NAMES: &'static [&'static ::core::primitive::str] = #names;

                fn kind(&self) -> #kind {
                    match self {
                        #(#kind_arms,)*
                    }
                }

                fn serialize_data<__RealtimeSerializer>(
                    &self,
                    #serializer: __RealtimeSerializer,
                ) -> ::core::result::Result<
                    <__RealtimeSerializer as #serde::Serializer>::Ok,
                    <__RealtimeSerializer as #serde::Serializer>::Error,
                >
                where
                    __RealtimeSerializer: #serde::Serializer,
                {
                    match self {
                        #(#serialize_arms,)*
                    }
                }

                fn from_data(
                    #event: &::core::primitive::str,
                    #data: ::realtime_core::__private::serde_json::Value,
                ) -> ::core::result::Result<Self, ::realtime_core::DecodeError> {
                    let ::core::option::Option::Some(#value) =
                        <#kind as ::realtime_core::EventKind>::from_name(#event)
                    else {
                        return ::core::result::Result::Err(::realtime_core::DecodeError::UnknownEvent(
                            ::realtime_core::__private::unknown_event(
                                #event,
                                <Self as ::realtime_core::Events>::NAMES,
                            ),
                        ));
                    };
                    match #value {
                        #(#from_data_arms,)*
                    }
                }

                fn from_data_json(
                    #event: &::core::primitive::str,
                    #data: &::core::primitive::str,
                ) -> ::core::result::Result<Self, ::realtime_core::DecodeError> {
                    let ::core::option::Option::Some(#value) =
                        <#kind as ::realtime_core::EventKind>::from_name(#event)
                    else {
                        return ::core::result::Result::Err(::realtime_core::DecodeError::UnknownEvent(
                            ::realtime_core::__private::unknown_event(
                                #event,
                                <Self as ::realtime_core::Events>::NAMES,
                            ),
                        ));
                    };
                    match #value {
                        #(#from_json_arms,)*
                    }
                }

                fn describe(
                    #generator: &mut ::realtime_core::__private::schemars::SchemaGenerator,
                    #out: &mut ::std::vec::Vec<::realtime_core::EventDefinition>,
                ) {
                    #(#describe)*
                }
            }
        };

        #distinct

        #(#flatten_checks)*
    }
}

/// The presence items of the `Events` impl: the info type, and the change an event is,
/// from the `#[event(presence)]` variant; `NoPresence` without one.
fn presence_items(input: &Input<'_>) -> TokenStream {
    let private = quote!(::realtime_core::__private);
    let Some(variant) = input.presence_variant() else {
        return quote!(type Presence = #private::NoPresence;);
    };
    let Form::Flatten(field) = &variant.form else {
        return quote!(type Presence = #private::NoPresence;);
    };
    let (ty, variant_ident, value) = (&field.ty, variant.ident, local("__change"));
    quote! {
        type Presence = <#ty as #private::PresenceVariant>::Info;

        const DECLARES_PRESENCE: ::core::primitive::bool = true;

        fn presence_change(
            &self,
        ) -> ::core::option::Option<&#private::PresenceChange<<Self as ::realtime_core::Events>::Presence>> {
            #[allow(unreachable_patterns)]
            match self {
                Self::#variant_ident(#value) => ::core::option::Option::Some(
                    <#ty as #private::PresenceVariant>::as_change(#value),
                ),
                _ => ::core::option::Option::None,
            }
        }
    }
}

/// `Events::NAMES`: a literal slice, or the own names and the flattened enums' names
/// concatenated at compile time.
fn names(input: &Input<'_>) -> TokenStream {
    let own = |variant: &Variant<'_>| variant.name.as_ref().map(|name| name.value.clone());
    if !input.has_flatten() {
        let names = input.variants.iter().filter_map(own);
        return quote!(&[#(#names),*]);
    }
    let mut parts = Vec::new();
    let mut run: Vec<String> = Vec::new();
    for variant in &input.variants {
        match &variant.form {
            Form::Flatten(field) => {
                if !run.is_empty() {
                    parts.push(quote!(&[#(#run),*]));
                    run.clear();
                }
                let ty = &field.ty;
                parts.push(quote!(<#ty as ::realtime_core::Events>::NAMES));
            }
            _ => run.extend(own(variant)),
        }
    }
    if !run.is_empty() {
        parts.push(quote!(&[#(#run),*]));
    }
    let (_, total) = kind::offsets(input);
    quote! {
        &::realtime_core::__private::concat_names::<{ #total }>(&[#(#parts),*])
    }
}
