//! typify compiles each `pattern` with `regress::Regex::new`: ECMA-262 without Unicode
//! mode, where `\p{L}` is no property class and `"Zoë"` fails `^\p{L}+$`. JSON Schema's
//! patterns are read in Unicode mode (`new RegExp(pattern, "u")`), as the server and the
//! zod module read them, so the generated code passes the `u` flag.

use proc_macro2::{Delimiter, Group, Ident, Literal, Punct, Spacing, TokenStream, TokenTree};

/// `tokens` with every `regress::Regex::new(pattern)` made
/// `regress::Regex::with_flags(pattern, "u")`.
pub(super) fn in_unicode_mode(tokens: TokenStream) -> TokenStream {
    let mut out: Vec<TokenTree> = Vec::new();
    let mut tokens = tokens.into_iter().peekable();
    while let Some(token) = tokens.next() {
        match token {
            TokenTree::Group(group) => out.push(regrouped(&group, in_unicode_mode(group.stream()))),
            TokenTree::Ident(ident) if ident == "new" && after_regress_regex(&out) => {
                match tokens.peek() {
                    Some(TokenTree::Group(arguments))
                        if arguments.delimiter() == Delimiter::Parenthesis =>
                    {
                        let mut stream = in_unicode_mode(arguments.stream());
                        stream.extend([
                            TokenTree::Punct(Punct::new(',', Spacing::Alone)),
                            TokenTree::Literal(Literal::string("u")),
                        ]);
                        let arguments = regrouped(arguments, stream);
                        tokens.next();
                        out.push(TokenTree::Ident(Ident::new("with_flags", ident.span())));
                        out.push(arguments);
                    }
                    _ => out.push(TokenTree::Ident(ident)),
                }
            }
            other => out.push(other),
        }
    }
    out.into_iter().collect()
}

fn regrouped(group: &Group, stream: TokenStream) -> TokenTree {
    let mut regrouped = Group::new(group.delimiter(), stream);
    regrouped.set_span(group.span());
    TokenTree::Group(regrouped)
}

/// Whether `tokens` end with `regress::Regex::`.
fn after_regress_regex(tokens: &[TokenTree]) -> bool {
    let Some(start) = tokens.len().checked_sub(6) else {
        return false;
    };
    let tail: Vec<String> = tokens[start..].iter().map(ToString::to_string).collect();
    tail == ["regress", ":", ":", "Regex", ":", ":"]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regress_patterns_get_the_unicode_flag_and_nothing_else_changes() {
        let code: TokenStream = r#"
            fn f() {
                let a = ::regress::Regex::new("^\\p{L}+$").unwrap();
                let b = Vec::new();
                let c = other::Regex::new("x");
            }
        "#
        .parse()
        .unwrap();
        let text = in_unicode_mode(code).to_string();
        assert!(
            text.contains(r#"regress :: Regex :: with_flags ("^\\p{L}+$" , "u")"#),
            "{text}"
        );
        assert!(text.contains("Vec :: new ()"), "{text}");
        assert!(text.contains(r#"other :: Regex :: new ("x")"#), "{text}");
    }
}
