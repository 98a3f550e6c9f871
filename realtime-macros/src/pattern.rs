//! Patterns written in a field's schema attribute (`#[schemars(regex(pattern = "..."))]`,
//! `#[schemars(pattern("..."))]`) must be ECMA-262 regular expressions: JSON Schema says
//! so, and the server, the browser's zod module and typify's types all read them so. A
//! pattern in Rust's dialect (`(?i)`, `\A`) is refused here, naming the field, instead of
//! failing every emit of the event or the code generators.

use syn::parse::ParseStream;
use syn::{Attribute, Expr, ExprLit, Field, Lit, LitStr};

use crate::errors::Errors;

/// Checks the literal patterns in the schema attributes of `field`.
pub(crate) fn validate_field(field: &Field, errors: &mut Errors) {
    let name = field
        .ident
        .as_ref()
        .map_or_else(String::new, ToString::to_string);
    for literal in field.attrs.iter().flat_map(literal_patterns) {
        if let Err(error) = regress::Regex::with_flags(&literal.value(), "u") {
            errors.push(syn::Error::new(
                literal.span(),
                format!(
                    "the pattern of field `{name}` is not an ECMA-262 regular expression ({error}); JSON Schema patterns are ECMA-262, and the server, the browser and the generated Rust types all read them so: write it without Rust-only syntax (spell out the cases, `[a-zA-Z]`, for `(?i)`; `^` and `$` for `\\A` and `\\z`)"
                ),
            ));
        }
    }
}

/// The string literals given as patterns in a `#[schemars(...)]` attribute. Whatever does
/// not parse is left to schemars' own derive to report.
fn literal_patterns(attr: &Attribute) -> Vec<LitStr> {
    let mut found = Vec::new();
    if !attr.path().is_ident("schemars") {
        return found;
    }
    let _ = attr.parse_nested_meta(|meta| {
        if meta.path.is_ident("regex") {
            meta.parse_nested_meta(|inner| {
                if inner.path.is_ident("pattern") {
                    found.extend(literal(&inner.value()?.parse()?));
                } else {
                    skip(inner.input)?;
                }
                Ok(())
            })
        } else if meta.path.is_ident("pattern") {
            let content;
            syn::parenthesized!(content in meta.input);
            found.extend(literal(&content.parse()?));
            Ok(())
        } else {
            skip(meta.input)
        }
    });
    found
}

fn literal(expr: &Expr) -> Option<LitStr> {
    match expr {
        Expr::Lit(ExprLit {
            lit: Lit::Str(literal),
            ..
        }) => Some(literal.clone()),
        _ => None,
    }
}

/// Skips the value of an item this check does not read: `= expr` or `(...)`.
fn skip(input: ParseStream<'_>) -> syn::Result<()> {
    if input.peek(syn::Token![=]) {
        input.parse::<syn::Token![=]>()?;
        input.parse::<Expr>()?;
    } else if input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}
