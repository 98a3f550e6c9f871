//! Types whose schema the derive makes more precise than schemars: a map (`propertyNames`
//! from its key type), `url::Url` (`x-whatwg-url`) and a decimal that reads numbers but
//! writes strings (`x-accepts`, what it reads), also inside the wrappers the derive sees
//! (`Option`, `Vec`, `VecDeque`, `Box`, `Rc`, `Arc`, sets, arrays, slices, tuples and
//! map values): `Option<HashMap<Uuid, Vec<Url>>>` is precise at every level.
//!
//! The derive reads types by their names; the generated code checks each name against the
//! type through `realtime_core::__private::SchemaProbe`, which falls back to schemars' own
//! schema for a type that only shares the name (an app's own `Url` or `Vec`). A wrapper's
//! schema is schemars' for the same wrapper of a local type whose schema is the probed one
//! of the wrapper's inner type (`Vec<Url>` is described as `Vec<__RealtimeSchema0>`), so
//! its shape is schemars' own.

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{Attribute, GenericArgument, Ident, PathArguments, Type};

/// The wrappers of one type whose schema is schemars' for the same wrapper of the probed
/// inner type.
const WRAPPERS: &[&str] = &[
    "Option", "Vec", "VecDeque", "BTreeSet", "HashSet", "Box", "Rc", "Arc",
];

/// The maps: `propertyNames` from the key type, and the probed schema of their values.
const MAPS: &[&str] = &["HashMap", "BTreeMap"];

/// The leaves: `url::Url` and the decimals (`x-accepts`).
const LEAVES: &[&str] = &["Url", "Decimal", "BigDecimal"];

/// The schemas of the types of one event enum that the derive describes itself, with the
/// local types it generates for them.
pub(crate) struct Probe {
    /// What makes the ids of the local types unique in their module: the enum's name.
    scope: String,
    /// The number of the next local type.
    next: usize,
}

impl Probe {
    pub(crate) fn new(scope: String) -> Self {
        Self { scope, next: 0 }
    }

    /// The expression of the schema of the data of a newtype variant, with `generator` a
    /// `&mut SchemaGenerator`; `None` where schemars' own is the derive's.
    pub(crate) fn data(
        &mut self,
        ty: &Type,
        attrs: &[Attribute],
        generator: &Ident,
    ) -> Option<TokenStream> {
        if attrs.iter().any(chooses_schema) {
            return None;
        }
        self.schema(ty, generator)
    }

    /// The items that define `name` (unique in the module), the type that describes a field
    /// of type `ty` for `#[schemars(with = "...")]`, or `None` where schemars' own schema is
    /// the derive's.
    ///
    /// An `Option<T>` field is described as `Option<..>`, so that schemars reads it as
    /// optional where serde does; through a `Box`, `Rc` or `Arc` (which schemars also reads
    /// as optional) the derive leaves it to schemars.
    pub(crate) fn field(
        &mut self,
        ty: &Type,
        attrs: &[Attribute],
        name: &Ident,
    ) -> Option<TokenStream> {
        if attrs.iter().any(chooses_schema) {
            return None;
        }
        if let Some(inner) = argument(ty, &["Option"]) {
            let inner_name = format_ident!("{}_inner", name);
            let shadow = self.shadow(inner, &inner_name)?;
            // Spanned at the field's type: where a type of the app's own called `Option` is.
            let schema = quote_spanned! {ty.span()=>
                <#ty as ::realtime_core::__private::OptionField<#inner_name>>::Schema
            };
            return Some(quote! {
                #shadow
                #[allow(non_camel_case_types)]
                type #name = #schema;
            });
        }
        let mut through = ty;
        while let Some(inner) = argument(through, &["Box", "Rc", "Arc"]) {
            if argument(inner, &["Option"]).is_some() {
                return None;
            }
            through = inner;
        }
        self.shadow(ty, name)
    }

    /// The expression of the schema of `ty`, or `None` where schemars' own is the derive's
    /// (nothing inside needs the probe).
    fn schema(&mut self, ty: &Type, generator: &Ident) -> Option<TokenStream> {
        let probe = |method: TokenStream| {
            quote! {{
                #[allow(unused_imports)]
                use ::realtime_core::__private::{AnySchema as _, AnyWrapping as _};
                ::realtime_core::__private::SchemaProbe::<#ty>::new().#method
            }}
        };
        match ty {
            Type::Paren(inner) => self.schema(&inner.elem, generator),
            Type::Group(inner) => self.schema(&inner.elem, generator),
            Type::Array(array) => {
                let (item, name) = self.local(&array.elem)?;
                let len = &array.len;
                Some(quote!({ #item #generator.subschema_for::<[#name; #len]>() }))
            }
            Type::Slice(slice) => {
                let (item, name) = self.local(&slice.elem)?;
                Some(quote!({ #item #generator.subschema_for::<[#name]>() }))
            }
            Type::Tuple(tuple) => {
                let mut items = Vec::new();
                let elems: Vec<TokenStream> = tuple
                    .elems
                    .iter()
                    .map(|elem| match self.local(elem) {
                        Some((item, name)) => {
                            items.push(item);
                            quote!(#name)
                        }
                        None => quote!(#elem),
                    })
                    .collect();
                if items.is_empty() {
                    return None;
                }
                Some(quote!({ #(#items)* #generator.subschema_for::<(#(#elems,)*)>() }))
            }
            Type::Path(path) if path.qself.is_none() => {
                let name = path.path.segments.last()?.ident.to_string();
                if LEAVES.contains(&name.as_str()) {
                    return Some(probe(quote!(schema(#generator))));
                }
                if MAPS.contains(&name.as_str()) {
                    let value = arguments(ty).get(1).copied();
                    return Some(match value.and_then(|value| self.local(value)) {
                        Some((item, name)) => {
                            let schema = probe(quote!(wrapping::<#name>(#generator)));
                            quote!({ #item #schema })
                        }
                        None => probe(quote!(schema(#generator))),
                    });
                }
                let inner = argument(ty, WRAPPERS)?;
                let (item, name) = self.local(inner)?;
                let schema = probe(quote!(wrapping::<#name>(#generator)));
                Some(quote!({ #item #schema }))
            }
            _ => None,
        }
    }

    /// A local type whose schema is that of `ty` as [`Probe::schema`] gives it: its
    /// definition and its name.
    fn local(&mut self, ty: &Type) -> Option<(TokenStream, Ident)> {
        let name = format_ident!("__RealtimeSchema{}", self.next);
        let item = self.shadow(ty, &name)?;
        Some((item, name))
    }

    /// The definition of a type `name` whose schema is that of `ty` as [`Probe::schema`]
    /// gives it, inlined where it is used.
    fn shadow(&mut self, ty: &Type, name: &Ident) -> Option<TokenStream> {
        let id = format!("::{}::{}", self.scope, self.next);
        self.next += 1;
        let generator = Ident::new("__generator", Span::mixed_site());
        let schema = self.schema(ty, &generator)?;
        // Only a type that is not inlined is named in the document; this one never is.
        let schema_name = quote!(#ty).to_string().replace(' ', "");
        let schemars = quote!(::realtime_core::__private::schemars);
        let cow = quote!(::std::borrow::Cow<'static, ::core::primitive::str>);
        Some(quote! {
            #[allow(non_camel_case_types, dead_code)]
            struct #name;

            impl #schemars::JsonSchema for #name {
                fn inline_schema() -> ::core::primitive::bool {
                    true
                }

                fn schema_name() -> #cow {
                    ::std::borrow::Cow::Borrowed(#schema_name)
                }

                fn schema_id() -> #cow {
                    ::std::borrow::Cow::Borrowed(::core::concat!(::core::module_path!(), #id))
                }

                fn json_schema(#generator: &mut #schemars::SchemaGenerator) -> #schemars::Schema {
                    #schema
                }
            }
        })
    }
}

/// The type arguments of the last segment of the path `ty`.
fn arguments(ty: &Type) -> Vec<&Type> {
    let Type::Path(path) = ty else {
        return Vec::new();
    };
    let Some(segment) = path.path.segments.last() else {
        return Vec::new();
    };
    let PathArguments::AngleBracketed(arguments) = &segment.arguments else {
        return Vec::new();
    };
    arguments
        .args
        .iter()
        .filter_map(|argument| match argument {
            GenericArgument::Type(ty) => Some(ty),
            _ => None,
        })
        .collect()
}

/// The first type argument of `ty` when `ty` is a path (no `<T as Trait>::`) whose last
/// segment is one of `names`.
fn argument<'a>(ty: &'a Type, names: &[&str]) -> Option<&'a Type> {
    let Type::Path(path) = ty else {
        return None;
    };
    if path.qself.is_some() {
        return None;
    }
    let segment = path.path.segments.last()?;
    if !names.iter().any(|name| segment.ident == name) {
        return None;
    }
    arguments(ty).first().copied()
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
