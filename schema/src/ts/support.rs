//! Small functions the generated zod schemas call where zod or JavaScript's objects differ
//! from JSON Schema and JSON: keys that `Object.prototype` also has, `oneOf`, and items
//! compared as JSON values. Written once, above the schemas.

use std::collections::BTreeSet;

use crate::model::{Kind, ObjectRules, Schema};

/// Keys an object inherits from `Object.prototype`: zod reads `input[key]`, so an absent
/// one is found on the prototype (a function, or the prototype itself for `__proto__`).
const INHERITED: &[&str] = &[
    "__proto__",
    "__defineGetter__",
    "__defineSetter__",
    "__lookupGetter__",
    "__lookupSetter__",
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];

/// The members TypeScript's `Object` interface declares: an object literal is taken to
/// have them, so an optional property of that name must admit the inherited member's type.
const DECLARED_ON_OBJECT: &[&str] = &[
    "constructor",
    "hasOwnProperty",
    "isPrototypeOf",
    "propertyIsEnumerable",
    "toLocaleString",
    "toString",
    "valueOf",
];

/// The key zod checks `__proto__` under: in an object literal (zod's shape, zod's output)
/// `__proto__` sets the prototype instead of a property.
pub(super) const PROTO_KEY: &str = "[PROTO_KEY]";

/// A function written into the generated module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Support {
    OwnProperties,
    RestoreProto,
    ExactlyOne,
    CanonicalJson,
}

/// Whether an object with these properties must be read through `ownProperties`.
pub(super) fn reads_inherited_key(rules: &ObjectRules) -> bool {
    rules
        .properties
        .iter()
        .any(|property| INHERITED.contains(&property.name.as_str()))
}

/// Whether `schema` holds (not through a `$ref`) such an object: its TypeScript type is
/// then written out, since zod's inferred one would refuse an object literal.
pub(super) fn holds_inherited_key(schema: &Schema) -> bool {
    let mut found = false;
    schema.walk(&mut |node| {
        if let Kind::Object(rules) = &node.kind {
            found |= reads_inherited_key(rules);
        }
    });
    found
}

/// The TypeScript type of an optional property `name` of type `ty`: TypeScript takes an
/// object literal without it to have `Object`'s member, and so does JavaScript at run time.
pub(super) fn optional_type(name: &str, ty: String) -> String {
    if DECLARED_ON_OBJECT.contains(&name) {
        format!("{ty} | Object[\"{name}\"]")
    } else {
        ty
    }
}

/// Whether every variant is a `const`, or an object with a required property that is a
/// `const` of its own value in each (serde's internal and adjacent tags): then at most
/// one can match, and `oneOf` needs no check beyond `z.union`'s.
pub(super) fn told_apart_by_a_tag(variants: &[Schema]) -> bool {
    let consts: Option<Vec<&serde_json::Value>> = variants
        .iter()
        .map(|variant| match &variant.kind {
            Kind::Const(value) => Some(value),
            _ => None,
        })
        .collect();
    if let Some(consts) = consts {
        return distinct(&consts);
    }
    let Some(Kind::Object(first)) = variants.first().map(|variant| &variant.kind) else {
        return false;
    };
    first.properties.iter().any(|candidate| {
        let tags: Option<Vec<&serde_json::Value>> = variants
            .iter()
            .map(|variant| match &variant.kind {
                Kind::Object(rules) => rules.properties.iter().find_map(|property| {
                    match (&property.schema.kind, property.required) {
                        (Kind::Const(value), true) if property.name == candidate.name => {
                            Some(value)
                        }
                        _ => None,
                    }
                }),
                _ => None,
            })
            .collect();
        tags.is_some_and(|tags| distinct(&tags))
    })
}

fn distinct(values: &[&serde_json::Value]) -> bool {
    values
        .iter()
        .enumerate()
        .all(|(index, value)| !values[..index].contains(value))
}

/// The code of `supports`, in a fixed order; empty for none.
pub(super) fn code(supports: &BTreeSet<Support>) -> String {
    let mut out = String::new();
    if supports.is_empty() {
        return out;
    }
    out.push_str(
        "\n// Where zod's own checks differ from JSON Schema's, or objects from JSON's.\n",
    );
    if supports.contains(&Support::OwnProperties) {
        out.push_str("\nconst PROTO_KEY = \"__proto__ (own)\";\n");
    }
    for support in supports {
        out.push('\n');
        out.push_str(match support {
            Support::OwnProperties => OWN_PROPERTIES,
            Support::RestoreProto => RESTORE_PROTO,
            Support::ExactlyOne => EXACTLY_ONE,
            Support::CanonicalJson => CANONICAL_JSON,
        });
    }
    out
}

const EXACTLY_ONE: &str = r#"/** JSON Schema's `oneOf`: the data must match exactly one variant (`z.union` takes the first). */
function exactlyOne<const T extends readonly z.ZodType[]>(variants: T): z.ZodType<z.output<T[number]>> {
  return z.unknown().transform((value, ctx) => {
    const matches = variants.map((variant) => variant.safeParse(value)).filter((result) => result.success);
    const [only] = matches;
    if (matches.length === 1 && only !== undefined) return only.data as z.output<T[number]>;
    ctx.issues.push({
      code: "custom",
      input: value,
      message: matches.length === 0 ? "matches none of the variants" : `matches ${matches.length} variants; exactly one must match`,
    });
    return z.NEVER;
  });
}
"#;

const CANONICAL_JSON: &str = r#"/** The JSON text of `value` with every object's keys sorted: equal JSON values, equal texts. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (typeof value === "object" && value !== null) {
    const entries = Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`);
    return `{${entries.join(",")}}`;
  }
  return typeof value === "bigint" ? value.toString() : JSON.stringify(value);
}
"#;

const OWN_PROPERTIES: &str = r#"/**
 * The data's own properties in an object without a prototype, `__proto__` as PROTO_KEY:
 * zod reads `input[key]`, which would find an absent `toString` on Object.prototype.
 */
function ownProperties(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const own: Record<string, unknown> = Object.create(null);
  for (const [key, item] of Object.entries(value)) own[key === "__proto__" ? PROTO_KEY : key] = item;
  return own;
}
"#;

const RESTORE_PROTO: &str = r#"/** Puts PROTO_KEY back as an own `__proto__` property (an assignment would set the prototype). */
function restoreProto<T>(value: object): T {
  if (Object.prototype.hasOwnProperty.call(value, PROTO_KEY)) {
    const item: unknown = (value as Record<string, unknown>)[PROTO_KEY];
    delete (value as Record<string, unknown>)[PROTO_KEY];
    Object.defineProperty(value, "__proto__", { value: item, enumerable: true, writable: true, configurable: true });
  }
  return value as T;
}
"#;
