//! The attributes the derive reads: `#[events(...)]` on the enum, `#[event(...)]` and the
//! variant-level `#[serde(...)]` on a variant, and the attributes a field keeps.

use heck::{
    ToKebabCase, ToLowerCamelCase, ToShoutyKebabCase, ToShoutySnakeCase, ToSnakeCase,
    ToUpperCamelCase,
};
use proc_macro2::Span;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, Expr, Ident, Lit, LitStr, Meta, Token};

use crate::errors::Errors;

/// `#[events(namespace = "...", rename_all = "...")]` on the enum.
#[derive(Default)]
pub(crate) struct EnumAttrs {
    pub(crate) namespace: Option<LitStr>,
    pub(crate) rename_all: Option<RenameRule>,
    /// Whether an `#[events(...)]` attribute failed to parse (already reported).
    pub(crate) invalid: bool,
}

/// How a variant ident becomes the last segment of a derived event name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum RenameRule {
    CamelCase,
    SnakeCase,
    KebabCase,
    PascalCase,
    ScreamingSnakeCase,
    ScreamingKebabCase,
    Lowercase,
    Uppercase,
}

impl RenameRule {
    const ALL: [(&'static str, Self); 8] = [
        ("camelCase", Self::CamelCase),
        ("snake_case", Self::SnakeCase),
        ("kebab-case", Self::KebabCase),
        ("PascalCase", Self::PascalCase),
        ("SCREAMING_SNAKE_CASE", Self::ScreamingSnakeCase),
        ("SCREAMING-KEBAB-CASE", Self::ScreamingKebabCase),
        ("lowercase", Self::Lowercase),
        ("UPPERCASE", Self::Uppercase),
    ];

    fn from_lit(lit: &LitStr) -> syn::Result<Self> {
        let value = lit.value();
        Self::ALL
            .iter()
            .find(|(name, _)| *name == value)
            .map(|(_, rule)| *rule)
            .ok_or_else(|| {
                let expected: Vec<String> = Self::ALL
                    .iter()
                    .map(|(name, _)| format!("\"{name}\""))
                    .collect();
                syn::Error::new(
                    lit.span(),
                    format!(
                        "unknown rename_all rule `{value}`; write one of {}",
                        expected.join(", ")
                    ),
                )
            })
    }

    pub(crate) fn apply(self, ident: &str) -> String {
        match self {
            Self::CamelCase => ident.to_lower_camel_case(),
            Self::SnakeCase => ident.to_snake_case(),
            Self::KebabCase => ident.to_kebab_case(),
            Self::PascalCase => ident.to_upper_camel_case(),
            Self::ScreamingSnakeCase => ident.to_shouty_snake_case(),
            Self::ScreamingKebabCase => ident.to_shouty_kebab_case(),
            Self::Lowercase => ident.to_lowercase(),
            Self::Uppercase => ident.to_uppercase(),
        }
    }
}

const EVENTS_USAGE: &str =
    "write #[events(namespace = \"app\")] and/or #[events(rename_all = \"camelCase\")]";

/// Reads every `#[events(...)]` attribute of the enum.
pub(crate) fn enum_attrs(attrs: &[Attribute], errors: &mut Errors) -> EnumAttrs {
    let mut out = EnumAttrs::default();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("events")) {
        if !matches!(attr.meta, Meta::List(_)) {
            out.invalid = true;
            errors.push(syn::Error::new_spanned(
                attr,
                format!("#[events] needs arguments; {EVENTS_USAGE}"),
            ));
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("namespace") {
                let lit: LitStr = meta.value()?.parse()?;
                if out.namespace.is_some() {
                    return Err(meta.error("duplicate `namespace` in #[events(...)]; keep one"));
                }
                out.namespace = Some(lit);
                Ok(())
            } else if meta.path.is_ident("rename_all") {
                let lit: LitStr = meta.value()?.parse()?;
                if out.rename_all.is_some() {
                    return Err(meta.error("duplicate `rename_all` in #[events(...)]; keep one"));
                }
                out.rename_all = Some(RenameRule::from_lit(&lit)?);
                Ok(())
            } else {
                let key = meta
                    .path
                    .get_ident()
                    .map_or_else(|| "?".to_owned(), Ident::to_string);
                Err(meta.error(format!(
                    "unknown key `{key}` in #[events(...)]; {EVENTS_USAGE}"
                )))
            }
        });
        if let Err(error) = result {
            out.invalid = true;
            errors.push(error);
        }
    }
    out
}

/// `#[event("name")]` or `#[event(flatten)]` on a variant.
#[derive(Default)]
pub(crate) struct VariantAttrs {
    pub(crate) name: Option<LitStr>,
    pub(crate) flatten: Option<Span>,
    /// `#[event(presence)]`: the framework's `presence.joined` and `presence.left` events,
    /// with the info type of `PresenceChange<Info>`.
    pub(crate) presence: Option<Span>,
    /// Variant-level `#[serde(...)]` items the data mirrors keep (`rename_all`,
    /// `deny_unknown_fields`), with the span of the attribute for errors on other forms.
    pub(crate) serde: Vec<Meta>,
    /// Variant-level `#[schemars]`, `#[validate]` and `#[garde]` attributes (struct-like
    /// variants pass them to the owned mirror).
    pub(crate) schema: Vec<Attribute>,
    /// Whether a variant-level `#[schemars(rename = ...)]` names the data's schema.
    pub(crate) schema_renamed: bool,
    /// Whether the `#[event(...)]` attribute failed to parse (already reported).
    pub(crate) invalid: bool,
}

const EVENT_USAGE: &str = "write #[event(\"namespace.name\")] to name the event, #[event(flatten)] to include the events of another #[derive(Events)] enum, or #[event(presence)] on `Presence(PresenceChange<Info>)` to declare presence";

/// Reads the attributes of a variant.
pub(crate) fn variant_attrs(attrs: &[Attribute], errors: &mut Errors) -> VariantAttrs {
    let mut out = VariantAttrs::default();
    let mut seen_event = false;
    for attr in attrs {
        let path = attr.path();
        if path.is_ident("event") {
            if seen_event {
                errors.push(syn::Error::new_spanned(
                    attr,
                    "a variant takes one #[event(...)] attribute; keep either #[event(\"namespace.name\")] or #[event(flatten)]",
                ));
                continue;
            }
            seen_event = true;
            if let Err(error) = event_attr(attr, &mut out) {
                out.invalid = true;
                errors.push(error);
            }
        } else if path.is_ident("serde") {
            if let Err(error) = variant_serde_attr(attr, &mut out) {
                errors.push(error);
            }
        } else if path.is_ident("schemars") || path.is_ident("validate") || path.is_ident("garde") {
            if path.is_ident("schemars") && has_key(attr, "rename") {
                out.schema_renamed = true;
            }
            out.schema.push(attr.clone());
        }
    }
    out
}

fn event_attr(attr: &Attribute, out: &mut VariantAttrs) -> syn::Result<()> {
    if !matches!(attr.meta, Meta::List(_)) {
        return Err(syn::Error::new_spanned(
            attr,
            format!("#[event] needs an argument; {EVENT_USAGE}"),
        ));
    }
    attr.parse_args_with(|input: ParseStream| {
        if input.is_empty() {
            return Err(input.error(format!("#[event()] is empty; {EVENT_USAGE}")));
        }
        loop {
            if input.peek(LitStr) {
                let lit: LitStr = input.parse()?;
                if out.name.is_some() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "an event has one name; keep a single #[event(\"namespace.name\")]",
                    ));
                }
                if out.flatten.is_some() {
                    return Err(flatten_and_name(lit.span()));
                }
                if out.presence.is_some() {
                    return Err(syn::Error::new(
                        lit.span(),
                        "#[event(presence)] names its events `presence.joined` and `presence.left`, so it takes no name; write #[event(presence)] alone",
                    ));
                }
                out.name = Some(lit);
            } else if input.peek(Ident) {
                let ident: Ident = input.parse()?;
                if ident == "presence" {
                    if out.presence.is_some() || out.flatten.is_some() || out.name.is_some() {
                        return Err(syn::Error::new(
                            ident.span(),
                            "#[event(presence)] takes nothing else: the events are `presence.joined` and `presence.left`; write it alone",
                        ));
                    }
                    out.presence = Some(ident.span());
                    if input.is_empty() {
                        return Ok(());
                    }
                    input.parse::<Token![,]>()?;
                    if input.is_empty() {
                        return Ok(());
                    }
                    continue;
                }
                if ident != "flatten" {
                    return Err(syn::Error::new(
                        ident.span(),
                        format!("unknown key `{ident}` in #[event(...)]; {EVENT_USAGE}"),
                    ));
                }
                if out.presence.is_some() {
                    return Err(syn::Error::new(
                        ident.span(),
                        "#[event(presence)] takes nothing else; write it alone",
                    ));
                }
                if out.flatten.is_some() {
                    return Err(syn::Error::new(
                        ident.span(),
                        "duplicate `flatten`; keep one",
                    ));
                }
                if out.name.is_some() {
                    return Err(flatten_and_name(ident.span()));
                }
                out.flatten = Some(ident.span());
            } else {
                return Err(input.error(EVENT_USAGE));
            }
            if input.is_empty() {
                return Ok(());
            }
            input.parse::<Token![,]>()?;
            if input.is_empty() {
                return Ok(());
            }
        }
    })
}

fn flatten_and_name(span: Span) -> syn::Error {
    syn::Error::new(
        span,
        "#[event(flatten)] includes the events of the inner enum under their own names, so it cannot also take a name; write either #[event(\"namespace.name\")] or #[event(flatten)]",
    )
}

fn variant_serde_attr(attr: &Attribute, out: &mut VariantAttrs) -> syn::Result<()> {
    let metas = attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?;
    for meta in metas {
        let key = meta
            .path()
            .get_ident()
            .map_or_else(String::new, Ident::to_string);
        match key.as_str() {
            "rename_all" | "deny_unknown_fields" => out.serde.push(meta),
            "rename" | "alias" => {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!(
                        "the event name comes from #[event(...)], not from serde; write #[event(\"namespace.name\")] instead of #[serde({key} = ...)]"
                    ),
                ));
            }
            "skip" | "skip_serializing" | "skip_deserializing" | "other" | "untagged" => {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!(
                        "#[serde({key})] does not apply to an event variant: every variant is an event; remove the attribute (or the variant)"
                    ),
                ));
            }
            _ => {
                return Err(syn::Error::new_spanned(
                    meta.path(),
                    format!(
                        "#[serde({key})] is not supported on an event variant; put it on the fields or on the data type (a variant accepts #[serde(rename_all = \"...\")] and #[serde(deny_unknown_fields)])"
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Whether a list attribute contains `key` or `key = ...` at its top level.
fn has_key(attr: &Attribute, key: &str) -> bool {
    attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
        .is_ok_and(|metas| metas.iter().any(|meta| meta.path().is_ident(key)))
}

/// Whether an attribute is one a field of a struct-like variant keeps on the owned mirror.
pub(crate) fn is_data_attr(attr: &Attribute) -> bool {
    let path = attr.path();
    ["doc", "serde", "schemars", "validate", "garde"]
        .iter()
        .any(|name| path.is_ident(name))
}

/// Whether an attribute changes how data (de)serializes or what its schema says.
pub(crate) fn is_data_behaviour_attr(attr: &Attribute) -> bool {
    let path = attr.path();
    ["serde", "schemars", "validate", "garde"]
        .iter()
        .any(|name| path.is_ident(name))
}

/// The doc comment: each line trimmed, joined with `\n`, without leading or trailing blank
/// lines; `None` when there is none.
pub(crate) fn doc(attrs: &[Attribute]) -> Option<String> {
    let mut lines = Vec::new();
    for attr in attrs.iter().filter(|attr| attr.path().is_ident("doc")) {
        if let Meta::NameValue(name_value) = &attr.meta {
            if let Expr::Lit(expr) = &name_value.value {
                if let Lit::Str(lit) = &expr.lit {
                    let value = lit.value();
                    if value.trim().is_empty() {
                        // `///` alone: a paragraph break (`"".lines()` would drop it).
                        lines.push(String::new());
                    } else {
                        lines.extend(value.lines().map(|line| line.trim().to_owned()));
                    }
                }
            }
        }
    }
    let start = lines.iter().position(|line| !line.is_empty())?;
    let end = lines.iter().rposition(|line| !line.is_empty())?;
    Some(lines[start..=end].join("\n"))
}

#[cfg(test)]
mod tests {
    use super::RenameRule;

    #[test]
    fn rename_rules_match_serde_spelling() {
        let cases = [
            ("camelCase", "httpRequestSent"),
            ("snake_case", "http_request_sent"),
            ("kebab-case", "http-request-sent"),
            ("PascalCase", "HttpRequestSent"),
            ("SCREAMING_SNAKE_CASE", "HTTP_REQUEST_SENT"),
            ("SCREAMING-KEBAB-CASE", "HTTP-REQUEST-SENT"),
            ("lowercase", "httprequestsent"),
            ("UPPERCASE", "HTTPREQUESTSENT"),
        ];
        for (rule, expected) in cases {
            let lit = syn::LitStr::new(rule, proc_macro2::Span::call_site());
            let rule = RenameRule::from_lit(&lit).unwrap();
            assert_eq!(rule.apply("HttpRequestSent"), expected);
        }
        let unknown = syn::LitStr::new("Title Case", proc_macro2::Span::call_site());
        assert!(RenameRule::from_lit(&unknown).is_err());
    }
}
