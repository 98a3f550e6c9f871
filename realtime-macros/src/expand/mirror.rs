//! The data of a struct-like variant: an owned mirror struct that deserializes and describes
//! it, and a borrowed one that serializes it without cloning.
//!
//! Both carry the fields' serde attributes so the wire format is the one the user wrote;
//! the owned one also carries the schemars/validate/garde attributes and the docs, which
//! become the JSON Schema.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::ext::IdentExt;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, ExprPath, Field, Ident, Lit, LitStr, Meta, Token};

use super::probe::{self, Probe};
use crate::ast::{Input, Variant};
use crate::attr;

/// The generated items of one struct-like variant.
pub(crate) struct Mirror {
    /// The owned struct: `Deserialize + JsonSchema`.
    pub(crate) owned: Ident,
    /// The borrowed struct: `Serialize`, with a lifetime when it has fields.
    pub(crate) borrowed: Ident,
    /// The structs and the helper functions their serde attributes call.
    pub(crate) items: TokenStream,
}

pub(crate) fn mirror(
    input: &Input<'_>,
    variant: &Variant<'_>,
    fields: &[&Field],
    probe: &mut Probe,
) -> Mirror {
    let enum_name = input.ident.unraw();
    let variant_name = variant.ident.unraw();
    let owned = format_ident!("__{}_{}", enum_name, variant_name);
    let borrowed = format_ident!("__{}_{}_Ser", enum_name, variant_name);

    let schema_rename = if variant.attrs.schema_renamed {
        None
    } else {
        let name = format!("{enum_name}{variant_name}");
        Some(quote!(#[schemars(rename = #name)]))
    };
    let variant_serde = &variant.attrs.serde;
    let owned_serde = (!variant_serde.is_empty()).then(|| quote!(#[serde(#(#variant_serde),*)]));
    let rename_all: Vec<&Meta> = variant_serde
        .iter()
        .filter(|meta| meta.path().is_ident("rename_all"))
        .collect();
    let borrowed_serde = (!rename_all.is_empty()).then(|| quote!(#[serde(#(#rename_all),*)]));
    let variant_schema = &variant.attrs.schema;
    let variant_docs = variant
        .original
        .attrs
        .iter()
        .filter(|attr| attr.path().is_ident("doc"));

    let mut helpers = Vec::new();
    let owned_fields: Vec<TokenStream> = fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let attrs = field.attrs.iter().filter(|attr| attr::is_data_attr(attr));
            let (ident, ty) = (&field.ident, &field.ty);
            let name = format_ident!("__realtime_{}_{}_schema", owned, index);
            let probed = probe.field(ty, &field.attrs, &name).map(|items| {
                helpers.push(items);
                // Spanned at the field's type, as the errors of the type it names are.
                let with = LitStr::new(&name.to_string(), ty.span());
                quote!(#[schemars(with = #with)])
            });
            let double_option = probe::is_double_option(ty, &field.attrs)
                .then(|| quote!(#[schemars(extend("x-double-option" = true))]));
            quote!(#(#attrs)* #probed #double_option #ident: #ty)
        })
        .collect();
    let borrowed_fields: Vec<TokenStream> = fields
        .iter()
        .enumerate()
        .map(|(index, field)| {
            let prefix = format!("__realtime_{owned}_{index}");
            let attrs = borrowed_attrs(field, &prefix, &mut helpers);
            let (ident, ty) = (&field.ident, &field.ty);
            quote!(#(#attrs)* #ident: &'__data #ty)
        })
        .collect();
    let lifetime = (!fields.is_empty()).then(|| quote!(<'__data>));

    let items = quote! {
        #[derive(
            ::realtime_core::__private::serde::Deserialize,
            ::realtime_core::__private::schemars::JsonSchema,
        )]
        #[serde(crate = "::realtime_core::__private::serde")]
        #[schemars(crate = "::realtime_core::__private::schemars")]
        #schema_rename
        #owned_serde
        #(#variant_schema)*
        #(#variant_docs)*
        #[allow(non_camel_case_types, non_snake_case, dead_code)]
        struct #owned {
            #(#owned_fields,)*
        }

        #[derive(::realtime_core::__private::serde::Serialize)]
        #[serde(crate = "::realtime_core::__private::serde")]
        #borrowed_serde
        #[allow(non_camel_case_types, non_snake_case, dead_code)]
        struct #borrowed #lifetime {
            #(#borrowed_fields,)*
        }

        #(#helpers)*
    };
    Mirror {
        owned,
        borrowed,
        items,
    }
}

/// The attributes of a field of the borrowed mirror: docs and serde attributes, with the
/// functions that receive the field rewritten for `&T` (they get `&&T`).
fn borrowed_attrs(field: &Field, prefix: &str, helpers: &mut Vec<TokenStream>) -> Vec<Attribute> {
    let mut out = Vec::new();
    for attr in &field.attrs {
        if attr.path().is_ident("doc") {
            out.push(attr.clone());
        } else if attr.path().is_ident("serde") {
            match attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
                Ok(metas) => {
                    let metas: Vec<TokenStream> = metas
                        .into_iter()
                        .filter_map(|meta| borrowed_meta(meta, &field.ty, prefix, helpers))
                        .collect();
                    if !metas.is_empty() {
                        out.push(syn::parse_quote!(#[serde(#(#metas),*)]));
                    }
                }
                // serde reports the error on the owned mirror.
                Err(_) => out.push(attr.clone()),
            }
        }
    }
    out
}

fn borrowed_meta(
    meta: Meta,
    ty: &syn::Type,
    prefix: &str,
    helpers: &mut Vec<TokenStream>,
) -> Option<TokenStream> {
    let key = meta
        .path()
        .get_ident()
        .map(Ident::to_string)
        .unwrap_or_default();
    match key.as_str() {
        // Deserialize-only: the borrowed mirror only serializes.
        "default" | "deserialize_with" | "alias" | "borrow" => return None,
        "skip_serializing_if" | "serialize_with" | "with" => {}
        _ => return Some(quote!(#meta)),
    }
    let Some(path) = path_value(&meta) else {
        return Some(quote!(#meta));
    };
    let helper = Ident::new(&format!("{prefix}_{key}"), Span::call_site());
    let helper_name = LitStr::new(&helper.to_string(), Span::call_site());
    let value = Ident::new("__value", Span::mixed_site());
    let serializer = Ident::new("__serializer", Span::mixed_site());
    let serialize = quote! {
        fn #helper<__S>(#value: &&#ty, #serializer: __S) -> ::core::result::Result<__S::Ok, __S::Error>
        where
            __S: ::realtime_core::__private::serde::Serializer,
    };
    match key.as_str() {
        "skip_serializing_if" => {
            helpers.push(quote! {
                #[allow(non_snake_case)]
                fn #helper(#value: &&#ty) -> ::core::primitive::bool {
                    #path(*#value)
                }
            });
            Some(quote!(skip_serializing_if = #helper_name))
        }
        "serialize_with" => {
            helpers.push(quote! {
                #[allow(non_snake_case)]
                #serialize {
                    #path(*#value, #serializer)
                }
            });
            Some(quote!(serialize_with = #helper_name))
        }
        _ => {
            helpers.push(quote! {
                #[allow(non_snake_case)]
                #serialize {
                    #path::serialize(*#value, #serializer)
                }
            });
            Some(quote!(serialize_with = #helper_name))
        }
    }
}

/// The path in `key = "path"`, parsed with the span of the string.
fn path_value(meta: &Meta) -> Option<ExprPath> {
    let Meta::NameValue(name_value) = meta else {
        return None;
    };
    let Expr::Lit(expr) = &name_value.value else {
        return None;
    };
    let Lit::Str(lit) = &expr.lit else {
        return None;
    };
    lit.parse().ok()
}
