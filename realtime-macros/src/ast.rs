//! The input of the derive as a small typed model: the enum, its variants and their event
//! names.

use proc_macro2::Span;
use quote::format_ident;
use syn::ext::IdentExt;
use syn::{Data, DeriveInput, Field, Fields, Ident, Visibility};

use crate::attr::{self, EnumAttrs, RenameRule, VariantAttrs};
use crate::errors::Errors;

/// An enum deriving `Events`.
pub(crate) struct Input<'a> {
    pub(crate) original: &'a DeriveInput,
    pub(crate) ident: &'a Ident,
    pub(crate) vis: &'a Visibility,
    pub(crate) attrs: EnumAttrs,
    pub(crate) variants: Vec<Variant<'a>>,
}

/// One variant: one event, or a flattened enum of events.
pub(crate) struct Variant<'a> {
    pub(crate) original: &'a syn::Variant,
    pub(crate) ident: &'a Ident,
    pub(crate) attrs: VariantAttrs,
    pub(crate) form: Form<'a>,
    /// The event name; `None` for a flattened variant or when it cannot be derived.
    pub(crate) name: Option<EventName>,
    /// The doc comment, used as the event description.
    pub(crate) doc: Option<String>,
}

/// The shape of a variant, which decides the shape of its data.
pub(crate) enum Form<'a> {
    /// `Reset`: the data is `null`.
    Unit,
    /// `Alert(String)`: the data is the inner value.
    Newtype(&'a Field),
    /// `#[event(flatten)] Billing(BillingEvent)`: the events of the inner enum; also
    /// `#[event(presence)] Presence(PresenceChange<Info>)`, whose type is an event set of
    /// its own (see [`Variant::is_presence`]).
    Flatten(&'a Field),
    /// `Joined { id: String }`: the data is an object of the fields.
    Struct(Vec<&'a Field>),
    /// A tuple variant with zero or several fields; refused by validation.
    Tuple(&'a syn::FieldsUnnamed),
}

/// An event name and where it comes from, for error spans.
pub(crate) struct EventName {
    pub(crate) value: String,
    pub(crate) span: Span,
    /// Whether it was written with `#[event("...")]` (else derived from the ident).
    pub(crate) explicit: bool,
}

/// The ident of the kind enum: `AppEventKind` for `AppEvent`.
pub(crate) fn kind_ident(ident: &Ident) -> Ident {
    format_ident!("{}Kind", ident.unraw(), span = ident.span())
}

impl<'a> Input<'a> {
    /// Parses the input; `None` when it is not an enum (the error is in `errors`).
    pub(crate) fn from_syn(node: &'a DeriveInput, errors: &mut Errors) -> Option<Self> {
        let data = match &node.data {
            Data::Enum(data) => data,
            Data::Struct(data) => {
                errors.push(not_an_enum(data.struct_token.span, "a struct"));
                return None;
            }
            Data::Union(data) => {
                errors.push(not_an_enum(data.union_token.span, "a union"));
                return None;
            }
        };
        let attrs = attr::enum_attrs(&node.attrs, errors);
        let variants = data
            .variants
            .iter()
            .map(|variant| Variant::from_syn(variant, &attrs, errors))
            .collect();
        Some(Self {
            original: node,
            ident: &node.ident,
            vis: &node.vis,
            attrs,
            variants,
        })
    }

    /// The `#[event(presence)]` variant, if any (the first, when several are refused).
    pub(crate) fn presence_variant(&self) -> Option<&Variant<'a>> {
        self.variants.iter().find(|variant| variant.is_presence())
    }

    pub(crate) fn has_flatten(&self) -> bool {
        self.variants
            .iter()
            .any(|variant| matches!(variant.form, Form::Flatten(_)))
    }
}

fn not_an_enum(span: Span, what: &str) -> syn::Error {
    syn::Error::new(
        span,
        format!(
            "#[derive(Events)] works on enums only, not on {what}; declare one variant per event, e.g. `enum AppEvent {{ #[event(\"app.started\")] Started }}`"
        ),
    )
}

impl<'a> Variant<'a> {
    /// Whether this is the `#[event(presence)]` variant.
    pub(crate) fn is_presence(&self) -> bool {
        self.attrs.presence.is_some()
    }

    fn from_syn(node: &'a syn::Variant, enum_attrs: &EnumAttrs, errors: &mut Errors) -> Self {
        let attrs = attr::variant_attrs(&node.attrs, errors);
        let form = match &node.fields {
            Fields::Unit => Form::Unit,
            Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
                let field = &fields.unnamed[0];
                if attrs.flatten.is_some() || attrs.presence.is_some() {
                    Form::Flatten(field)
                } else {
                    Form::Newtype(field)
                }
            }
            Fields::Unnamed(fields) => Form::Tuple(fields),
            Fields::Named(fields) => Form::Struct(fields.named.iter().collect()),
        };
        let name = if attrs.flatten.is_some() || attrs.presence.is_some() {
            None
        } else if let Some(lit) = &attrs.name {
            Some(EventName {
                value: lit.value(),
                span: lit.span(),
                explicit: true,
            })
        } else {
            enum_attrs.namespace.as_ref().map(|namespace| {
                let rule = enum_attrs.rename_all.unwrap_or(RenameRule::CamelCase);
                EventName {
                    value: format!(
                        "{}.{}",
                        namespace.value(),
                        rule.apply(&node.ident.unraw().to_string())
                    ),
                    span: node.ident.span(),
                    explicit: false,
                }
            })
        };
        Self {
            original: node,
            ident: &node.ident,
            doc: attr::doc(&node.attrs),
            attrs,
            form,
            name,
        }
    }
}
