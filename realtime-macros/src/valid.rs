//! Every rule the input must follow. Each error is spanned at the offending token and says
//! what to write instead; all of them are reported at once.

use proc_macro2::{Span, TokenStream, TokenTree};
use quote::ToTokens;

use crate::ast::{Form, Input, Variant};
use crate::attr;
use crate::errors::Errors;

const NAME_RULE: &str =
    "one or more segments of letters, digits, `_` or `-` joined by `.`, e.g. \"chat.message\"";

/// What is wrong with an event name or namespace, if anything.
pub(crate) fn grammar_error(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".to_owned());
    }
    if name.starts_with('.') {
        return Some("it starts with `.`".to_owned());
    }
    if name.ends_with('.') {
        return Some("it ends with `.`".to_owned());
    }
    if name.contains("..") {
        return Some("it has an empty segment (`..`)".to_owned());
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.')))
        .map(|c| format!("`{}` is not allowed", c.escape_debug()))
}

/// Whether `namespace` is a dotted prefix of `name` (`a.b` of `a.b.c`).
fn is_namespace_of(namespace: &str, name: &str) -> bool {
    name.len() > namespace.len()
        && name.starts_with(namespace)
        && name.as_bytes()[namespace.len()] == b'.'
}

pub(crate) fn validate(input: &Input<'_>, errors: &mut Errors) {
    let generics = &input.original.generics;
    if !generics.params.is_empty() || generics.where_clause.is_some() {
        errors.push(syn::Error::new_spanned(
            generics,
            "#[derive(Events)] does not support generic or lifetime parameters: an event set is a fixed list of names and data types; use concrete types (e.g. one newtype variant per data type)",
        ));
    }
    if input.variants.is_empty() {
        errors.push(syn::Error::new(
            input.ident.span(),
            format!(
                "`{}` has no variants; an event enum needs at least one, e.g. `#[event(\"app.started\")] Started`",
                input.ident
            ),
        ));
    }
    let namespace_ok = match &input.attrs.namespace {
        Some(namespace) => match grammar_error(&namespace.value()) {
            Some(problem) => {
                errors.push(syn::Error::new(
                    namespace.span(),
                    format!(
                        "invalid namespace \"{}\": {problem}; a namespace is {NAME_RULE}",
                        namespace.value()
                    ),
                ));
                false
            }
            None => true,
        },
        None => true,
    };
    for variant in &input.variants {
        validate_variant(input, variant, namespace_ok, errors);
    }
    validate_distinct(input, errors);
    validate_presence(input, errors);
}

/// Whether `ty` is written `PresenceChange<Info>` (any path to it). The type is checked by
/// name so that a wrong one gets one error here instead of many from the generated code.
fn is_presence_change(ty: &syn::Type) -> bool {
    let syn::Type::Path(path) = ty else {
        return false;
    };
    path.qself.is_none()
        && path.path.segments.last().is_some_and(|segment| {
            segment.ident == "PresenceChange"
                && matches!(&segment.arguments, syn::PathArguments::AngleBracketed(arguments) if arguments.args.len() == 1)
        })
}

/// At most one `#[event(presence)]` variant, and with one, no own name under `presence.`
/// (the framework's events live there).
fn validate_presence(input: &Input<'_>, errors: &mut Errors) {
    let mut presence = input
        .variants
        .iter()
        .filter(|variant| variant.is_presence());
    let Some(first) = presence.next() else {
        return;
    };
    for extra in presence {
        if let Some(span) = extra.attrs.presence {
            errors.push(syn::Error::new(
                span,
                format!(
                    "presence is already declared by variant `{}`; an event set has one #[event(presence)] variant",
                    first.ident
                ),
            ));
        }
    }
    for variant in &input.variants {
        let Some(name) = &variant.name else { continue };
        if name.value == "presence" || name.value.starts_with("presence.") {
            let rest = name
                .value
                .trim_start_matches("presence")
                .trim_start_matches('.');
            let suggestion = if rest.is_empty() { "online" } else { rest };
            errors.push(syn::Error::new(
                name.span,
                format!(
                    "event name \"{}\" is under `presence`, which holds the framework's `presence.joined` and `presence.left` once the enum declares presence (variant `{}`); choose another namespace, e.g. \"status.{}\"",
                    name.value,
                    first.ident,
                    suggestion,
                ),
            ));
        }
    }
}

fn validate_variant(
    input: &Input<'_>,
    variant: &Variant<'_>,
    namespace_ok: bool,
    errors: &mut Errors,
) {
    if let Some((eq, expr)) = &variant.original.discriminant {
        let mut tokens = eq.to_token_stream();
        expr.to_tokens(&mut tokens);
        errors.push(syn::Error::new_spanned(
            tokens,
            "event variants cannot have explicit discriminants; remove `= ...` (the event name is given with #[event(\"namespace.name\")])",
        ));
    }
    match &variant.form {
        Form::Tuple(fields) => {
            let message = if fields.unnamed.is_empty() {
                format!(
                    "a tuple variant without fields is not an event; write the unit variant `{}` for an event without data",
                    variant.ident
                )
            } else {
                format!(
                    "a tuple variant must have exactly one field (the event data); use named fields, `{} {{ a: A, b: B }}`, or a newtype of a struct",
                    variant.ident
                )
            };
            errors.push(syn::Error::new(fields.paren_token.span.join(), message));
        }
        Form::Newtype(field) | Form::Flatten(field) => {
            if matches!(variant.form, Form::Newtype(_)) {
                own_type_in_data(input, &field.ty, errors);
            }
            if let Some(attr) = field
                .attrs
                .iter()
                .find(|attr| attr::is_data_behaviour_attr(attr))
            {
                errors.push(syn::Error::new_spanned(
                    attr,
                    format!(
                        "attributes on the field of a newtype event are not applied; put them on the data type, or use named fields: `{} {{ value: T }}`",
                        variant.ident
                    ),
                ));
            }
        }
        Form::Struct(fields) => {
            for field in fields {
                own_type_in_data(input, &field.ty, errors);
                crate::pattern::validate_field(field, errors);
            }
        }
        Form::Unit => {}
    }
    if let Some(span) = variant.attrs.flatten {
        if !matches!(variant.form, Form::Flatten(_)) {
            errors.push(syn::Error::new(
                span,
                "#[event(flatten)] needs a newtype variant whose type also derives Events, e.g. `#[event(flatten)] Billing(BillingEvent)`",
            ));
        }
    }
    if !matches!(variant.form, Form::Struct(_)) {
        if let Some(meta) = variant.attrs.serde.first() {
            errors.push(syn::Error::new_spanned(
                meta.path(),
                "this #[serde(...)] applies to the fields of a struct-like event variant only; remove it, or put it on the data type",
            ));
        }
        if let Some(attr) = variant.attrs.schema.first() {
            errors.push(syn::Error::new_spanned(
                attr,
                "schema attributes on a variant apply to struct-like event variants only; put it on the data type",
            ));
        }
    }
    if let Some(span) = variant.attrs.presence {
        match &variant.form {
            Form::Flatten(field) if !is_presence_change(&field.ty) => {
                errors.push(syn::Error::new_spanned(
                    &field.ty,
                    "#[event(presence)] takes the framework's presence events, `PresenceChange<Info>` with your member info type as `Info`; write e.g. `Presence(realtime_core::PresenceChange<UserInfo>)`",
                ));
            }
            Form::Flatten(_) => {}
            _ => errors.push(syn::Error::new(
                span,
                "#[event(presence)] needs a newtype variant of the framework's presence events, e.g. `#[event(presence)] Presence(realtime_core::PresenceChange<UserInfo>)`",
            )),
        }
    }
    if variant.attrs.flatten.is_some() || variant.attrs.presence.is_some() {
        return;
    }
    match &variant.name {
        Some(name) if name.explicit || namespace_ok => {
            if let Some(problem) = grammar_error(&name.value) {
                let what = if name.explicit {
                    "event name"
                } else {
                    "derived event name"
                };
                errors.push(syn::Error::new(
                    name.span,
                    format!(
                        "invalid {what} \"{}\": {problem}; an event name is {NAME_RULE}",
                        name.value
                    ),
                ));
            }
        }
        Some(_) => {}
        // The attribute that should have named it is already reported.
        None if variant.attrs.invalid || input.attrs.invalid => {}
        None => errors.push(syn::Error::new(
            variant.ident.span(),
            format!(
                "variant `{}` has no event name; write #[event(\"namespace.name\")] on it, or #[events(namespace = \"...\")] on the enum to derive names from the variants",
                variant.ident
            ),
        )),
    }
}

/// The own names must be distinct, and none may be the namespace of another.
fn validate_distinct(input: &Input<'_>, errors: &mut Errors) {
    let named: Vec<&Variant<'_>> = input
        .variants
        .iter()
        .filter(|variant| variant.name.is_some())
        .collect();
    for (later_index, later) in named.iter().enumerate() {
        let Some(name) = &later.name else { continue };
        for earlier in &named[..later_index] {
            let Some(earlier_name) = &earlier.name else {
                continue;
            };
            let message = if earlier_name.value == name.value {
                format!(
                    "event name \"{}\" is already used by variant `{}`; give each event its own name with #[event(\"namespace.name\")]",
                    name.value, earlier.ident
                )
            } else if is_namespace_of(&name.value, &earlier_name.value) {
                format!(
                    "event name \"{}\" is also the namespace of \"{}\" (variant `{}`); a name cannot be both an event and a namespace, rename one of them, e.g. move this event into the namespace as \"{}.<name>\"",
                    name.value, earlier_name.value, earlier.ident, name.value
                )
            } else if is_namespace_of(&earlier_name.value, &name.value) {
                format!(
                    "event name \"{}\" is inside \"{}\", which is already an event (variant `{}`); a name cannot be both an event and a namespace, rename one of them, e.g. move `{}` into the namespace as \"{}.<name>\"",
                    name.value,
                    earlier_name.value,
                    earlier.ident,
                    earlier.ident,
                    earlier_name.value
                )
            } else {
                continue;
            };
            errors.push(syn::Error::new(name.span, message));
            break;
        }
    }
}

/// The event enum in its own events' data: `Self` anywhere, or the enum's name outside a
/// `Nested<..>`. The enum has no serde or JSON Schema form of its own (only its events'
/// data have one), so the way to carry its events is `realtime_core::Nested`.
fn own_type_in_data(input: &Input<'_>, ty: &syn::Type, errors: &mut Errors) {
    let mut found = Vec::new();
    find_own_type(ty.to_token_stream(), input.ident, false, &mut found);
    let own = input.ident;
    let advice = format!(
        "to carry events of `{own}`, write `Nested<{own}>` (`realtime_core::Nested`, sent as `{{\"event\": name, \"data\": data}}`): `Vec<Nested<{own}>>`, or `Box<Nested<{own}>>` for one"
    );
    for (span, is_self) in found {
        let message = if is_self {
            format!("`Self` cannot be used in an event's data; {advice}")
        } else {
            format!(
                "`{own}` has no serde or JSON Schema form of its own (its events' data have); {advice}"
            )
        };
        errors.push(syn::Error::new(span, message));
    }
}

/// Collects `Self` (true) and bare uses of `own` outside `Nested<..>` (false).
fn find_own_type(
    tokens: TokenStream,
    own: &syn::Ident,
    in_nested: bool,
    found: &mut Vec<(Span, bool)>,
) {
    let tokens: Vec<TokenTree> = tokens.into_iter().collect();
    let is_punct = |index: usize, ch: char| matches!(tokens.get(index), Some(TokenTree::Punct(punct)) if punct.as_char() == ch);
    // `Nested<` opens at `depth`: the indices of the `<` depth and of its `Nested`.
    let mut depth = 0usize;
    let mut nested_at: Vec<usize> = Vec::new();
    for (index, token) in tokens.iter().enumerate() {
        let inside = in_nested || !nested_at.is_empty();
        match token {
            TokenTree::Ident(ident) if ident == "Self" => found.push((ident.span(), true)),
            TokenTree::Ident(ident) if ident == "Nested" && is_punct(index + 1, '<') => {
                nested_at.push(depth + 1);
            }
            TokenTree::Ident(ident)
                if ident == own && !inside && !(index > 0 && is_punct(index - 1, ':')) =>
            {
                found.push((ident.span(), false));
            }
            TokenTree::Punct(punct) if punct.as_char() == '<' => depth += 1,
            // `->` inside a type is not a closing bracket.
            TokenTree::Punct(punct)
                if punct.as_char() == '>' && !is_punct(index.wrapping_sub(1), '-') =>
            {
                if nested_at.last() == Some(&depth) {
                    nested_at.pop();
                }
                depth = depth.saturating_sub(1);
            }
            TokenTree::Group(group) => find_own_type(group.stream(), own, inside, found),
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{find_own_type, grammar_error, is_namespace_of};

    /// For each use found: whether it is `Self` (or else the enum's name).
    fn own_uses(ty: &str) -> Vec<bool> {
        let ty: syn::Type = syn::parse_str(ty).unwrap();
        let own = syn::Ident::new("AppEvent", proc_macro2::Span::call_site());
        let mut found = Vec::new();
        find_own_type(
            quote::ToTokens::to_token_stream(&ty),
            &own,
            false,
            &mut found,
        );
        found.into_iter().map(|(_, is_self)| is_self).collect()
    }

    #[test]
    fn the_own_enum_is_found_outside_nested_and_self_everywhere() {
        let none: [bool; 0] = [];
        assert_eq!(own_uses("Vec<Nested<AppEvent>>"), none);
        assert_eq!(own_uses("Box<realtime_core::Nested<AppEvent>>"), none);
        assert_eq!(own_uses("other::AppEvent"), none, "another path");
        assert_eq!(own_uses("Nested<fn() -> u8>"), none);
        assert_eq!(own_uses("Vec<AppEvent>"), [false]);
        assert_eq!(own_uses("Option<Box<AppEvent>>"), [false]);
        assert_eq!(own_uses("[AppEvent; 2]"), [false]);
        assert_eq!(
            own_uses("HashMap<String, (Nested<AppEvent>, AppEvent)>"),
            [false]
        );
        assert_eq!(own_uses("(Nested<Vec<u8>>, Vec<AppEvent>)"), [false]);
        assert_eq!(own_uses("Nested<Self>"), [true]);
        assert_eq!(own_uses("Vec<Self>"), [true]);
    }

    #[test]
    fn grammar_accepts_dotted_segments_of_letters_digits_underscore_and_dash() {
        for name in ["a", "chat.message", "a_b.c-d.E9", "x.y.z.w"] {
            assert_eq!(grammar_error(name), None, "{name}");
        }
    }

    #[test]
    fn grammar_names_the_problem() {
        assert_eq!(grammar_error("").as_deref(), Some("it is empty"));
        assert_eq!(grammar_error(".a").as_deref(), Some("it starts with `.`"));
        assert_eq!(grammar_error("a.").as_deref(), Some("it ends with `.`"));
        assert_eq!(
            grammar_error("a..b").as_deref(),
            Some("it has an empty segment (`..`)")
        );
        assert_eq!(grammar_error("a b").as_deref(), Some("` ` is not allowed"));
        assert_eq!(grammar_error("a/b").as_deref(), Some("`/` is not allowed"));
        assert_eq!(grammar_error("café").as_deref(), Some("`é` is not allowed"));
    }

    #[test]
    fn namespace_needs_a_dot_boundary() {
        assert!(is_namespace_of("a.b", "a.b.c"));
        assert!(!is_namespace_of("a.b", "a.bc"));
        assert!(!is_namespace_of("a.b", "a.b"));
    }
}
