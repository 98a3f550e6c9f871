//! Types whose schema the derive makes more precise than schemars: a map (`propertyNames`
//! from its key type), `url::Url` (`x-whatwg-url`) and a decimal that reads numbers but
//! writes strings (`x-accepts`, what it reads), through
//! `realtime_core::__private::SchemaProbe`, which falls back to schemars' own schema for a
//! type that only shares the name (an app's own `Url`).

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, Type};

/// Whether the schema of a field or data of type `ty`, with these attributes, is taken
/// from the probe: the type is named `HashMap`, `BTreeMap`, `Url`, `Decimal` or
/// `BigDecimal`, and no attribute
/// chooses another schema or another serialization for it.
pub(crate) fn applies(ty: &Type, attrs: &[Attribute]) -> bool {
    let Type::Path(path) = ty else {
        return false;
    };
    if path.qself.is_some() {
        return false;
    }
    let named = path.path.segments.last().is_some_and(|segment| {
        ["HashMap", "BTreeMap", "Url", "Decimal", "BigDecimal"]
            .iter()
            .any(|name| segment.ident == name)
    });
    named && !attrs.iter().any(chooses_schema)
}

/// `with`, `schema_with`, `serialize_with` or `deserialize_with` in a serde or schemars
/// attribute: the field's schema or wire form is the app's choice; or `flatten`, where the
/// map's keys are the object's own (its `propertyNames` would bind the declared fields).
fn chooses_schema(attr: &Attribute) -> bool {
    if !(attr.path().is_ident("serde") || attr.path().is_ident("schemars")) {
        return false;
    }
    let mut found = false;
    let _ = attr.parse_nested_meta(|meta| {
        if [
            "with",
            "schema_with",
            "serialize_with",
            "deserialize_with",
            "flatten",
        ]
        .iter()
        .any(|name| meta.path.is_ident(name))
        {
            found = true;
        }
        skip_value(&meta)
    });
    found
}

/// Skips the value of a nested meta item, whatever it is.
fn skip_value(meta: &syn::meta::ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(syn::Token![=]) {
        let _: syn::Expr = meta.value()?.parse()?;
    } else if meta.input.peek(syn::token::Paren) {
        let _content;
        syn::parenthesized!(_content in meta.input);
    }
    Ok(())
}

/// The expression of the schema of `ty`, with `generator` a `&mut SchemaGenerator`.
pub(crate) fn schema(ty: &Type, generator: &TokenStream) -> TokenStream {
    quote! {{
        #[allow(unused_imports)]
        use ::realtime_core::__private::AnySchema as _;
        ::realtime_core::__private::SchemaProbe::<#ty>::new().schema(#generator)
    }}
}

/// Whether a field of type `ty` with these attributes is a double option: an
/// `Option<Option<T>>` read with a function of its own (`with`, `deserialize_with`), so
/// that `null` ("clear") and an absent field ("unchanged") differ. Its schema is that of an
/// optional `Option<T>`; `x-double-option: true` says that `null` is not absence.
pub(crate) fn is_double_option(ty: &Type, attrs: &[Attribute]) -> bool {
    let inner = |ty: &Type| -> Option<Type> {
        let Type::Path(path) = ty else {
            return None;
        };
        let segment = path.path.segments.last()?;
        if segment.ident != "Option" {
            return None;
        }
        let syn::PathArguments::AngleBracketed(arguments) = &segment.arguments else {
            return None;
        };
        match arguments.args.first()? {
            syn::GenericArgument::Type(inner) => Some(inner.clone()),
            _ => None,
        }
    };
    let reads_its_own_way = attrs.iter().any(|attr| {
        attr.path().is_ident("serde") && {
            let mut found = false;
            let _ = attr.parse_nested_meta(|meta| {
                if meta.path.is_ident("with") || meta.path.is_ident("deserialize_with") {
                    found = true;
                }
                skip_value(&meta)
            });
            found
        }
    });
    reads_its_own_way && inner(ty).is_some_and(|outer| inner(&outer).is_some())
}
