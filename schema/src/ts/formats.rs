//! String formats in zod, checked as the server checks them.
//!
//! The server validates with the `jsonschema` crate (format checks on), then decodes with
//! serde; the frontend must accept everything the server accepts and sends, and should
//! refuse what it refuses. Where zod's own check agrees, it is used (`z.guid()`,
//! `z.iso.date()`, `z.ipv4()`); elsewhere the generated module carries a small function
//! that follows the validator, written once above the schemas.

use std::collections::BTreeSet;

/// A format check written into the generated module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Helper {
    Date,
    Time,
    DateTime,
    Ipv4,
    Ipv6,
    Ip,
    Hostname,
    Email,
    Uri,
    WhatwgUrl,
}

impl Helper {
    /// The helpers this one calls.
    fn needs(self) -> &'static [Helper] {
        match self {
            Helper::DateTime => &[Helper::Date, Helper::Time],
            Helper::Ip => &[Helper::Ipv4, Helper::Ipv6],
            Helper::Ipv6 => &[Helper::Ipv4],
            Helper::Email => &[Helper::Hostname, Helper::Ipv4, Helper::Ipv6],
            Helper::Uri => &[Helper::Ipv6, Helper::Ipv4],
            Helper::Date | Helper::Time | Helper::Ipv4 | Helper::Hostname | Helper::WhatwgUrl => {
                &[]
            }
        }
    }

    fn code(self) -> &'static str {
        match self {
            Helper::Date => DATE,
            Helper::Time => TIME,
            Helper::DateTime => DATE_TIME,
            Helper::Ipv4 => IPV4,
            Helper::Ipv6 => IPV6,
            Helper::Ip => IP,
            Helper::Hostname => HOSTNAME,
            Helper::Email => EMAIL,
            Helper::Uri => URI,
            Helper::WhatwgUrl => WHATWG_URL,
        }
    }
}

/// The zod schema of a string `format`, and the helper it calls; `None` for a format
/// this generator does not check (it is then a plain string, with a warning).
pub(super) fn zod(format: &str) -> Option<(&'static str, Option<Helper>)> {
    Some(match format {
        // `jsonschema` accepts any 8-4-4-4-12 hex form, whatever the version nibble;
        // `z.uuid()` would refuse the nil-like ids and version 0.
        "uuid" => ("z.guid()", None),
        "date" => ("z.iso.date()", None),
        "ipv4" => ("z.ipv4()", None),
        // chrono's `NaiveTime`: `HH:MM`, seconds and a fraction optional, no offset.
        "partial-time" => ("z.iso.time()", None),
        // chrono's `NaiveDateTime`: seconds required, no offset.
        "partial-date-time" => (
            "z.iso.datetime({ local: true }).regex(/T\\d{2}:\\d{2}:\\d{2}(?:\\.\\d+)?$/)",
            None,
        ),
        "date-time" => (
            "z.stringFormat(\"date-time\", isDateTimeFormat)",
            Some(Helper::DateTime),
        ),
        "time" => ("z.stringFormat(\"time\", isTimeFormat)", Some(Helper::Time)),
        "email" => (
            "z.stringFormat(\"email\", isEmailFormat)",
            Some(Helper::Email),
        ),
        "uri" => ("z.stringFormat(\"uri\", isUriFormat)", Some(Helper::Uri)),
        "ipv6" => ("z.stringFormat(\"ipv6\", isIpv6Format)", Some(Helper::Ipv6)),
        // `std::net::IpAddr`: the validator does not know `ip`; serde reads either form.
        "ip" => ("z.stringFormat(\"ip\", isIpFormat)", Some(Helper::Ip)),
        _ => return None,
    })
}

/// The code of `helpers` and of the helpers they call, in a fixed order; empty for none.
pub(super) fn code(helpers: &BTreeSet<Helper>) -> String {
    let mut all = BTreeSet::new();
    let mut pending: Vec<Helper> = helpers.iter().copied().collect();
    while let Some(helper) = pending.pop() {
        if all.insert(helper) {
            pending.extend_from_slice(helper.needs());
        }
    }
    if all.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "\n// String formats, checked as the server checks them (the `jsonschema` crate's format\n// checks, then serde), so that what the server accepts and sends is accepted here.\n",
    );
    for helper in all {
        out.push('\n');
        out.push_str(helper.code());
    }
    out
}

const DATE: &str = r#"/** RFC 3339 `full-date`: `YYYY-MM-DD`, a day that exists. */
function isDateFormat(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (match === null) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return month >= 1 && month <= 12 && day >= 1 && day <= days[month - 1];
}
"#;

const TIME: &str = r#"/** RFC 3339 `full-time`: seconds and an offset required; a leap second only at 23:59 UTC. */
function isTimeFormat(text: string): boolean {
  const match = /^(\d{2}):(\d{2}):(\d{2})(?:\.\d+)?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/.exec(text);
  if (match === null) return false;
  const [hour, minute, second] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (hour > 23 || minute > 59 || second > 60) return false;
  if (match[4] !== undefined) return second !== 60 || (hour === 23 && minute === 59);
  const [offsetHour, offsetMinute] = [Number(match[6]), Number(match[7])];
  if (offsetHour > 23 || offsetMinute > 59) return false;
  if (second !== 60) return true;
  const offset = (match[5] === "+" ? -1 : 1) * (offsetHour * 60 + offsetMinute);
  return (((hour * 60 + minute + offset) % 1440) + 1440) % 1440 === 23 * 60 + 59;
}
"#;

const DATE_TIME: &str = r#"/** RFC 3339 `date-time`: a date, `T` (or `t`) and a full time. */
function isDateTimeFormat(text: string): boolean {
  const match = /^([^Tt]*)[Tt](.*)$/.exec(text);
  return match !== null && isDateFormat(match[1]) && isTimeFormat(match[2]);
}
"#;

const IPV4: &str = r#"/** An IPv4 address in dotted decimal, without leading zeros. */
function isIpv4Format(text: string): boolean {
  return /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]\d|\d)$/.test(text);
}
"#;

const IPV6: &str = r#"/** An IPv6 address (RFC 4291 text form, an IPv4 address allowed last), no zone. */
function isIpv6Format(text: string): boolean {
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  const all = [...head, ...tail];
  const ipv4At = halves.length === 2 && tail.length === 0 ? -1 : all.length - 1;
  let count = 0;
  for (const [index, group] of all.entries()) {
    if (index === ipv4At && isIpv4Format(group)) count += 2;
    else if (/^[0-9A-Fa-f]{1,4}$/.test(group)) count += 1;
    else return false;
  }
  return halves.length === 2 ? count <= 7 : count === 8;
}
"#;

const IP: &str = r#"/** An IPv4 or IPv6 address (`std::net::IpAddr`). */
function isIpFormat(text: string): boolean {
  return isIpv4Format(text) || isIpv6Format(text);
}
"#;

const HOSTNAME: &str = r#"/** An ASCII host name: labels of 1 to 63 letters, digits and inner hyphens; `--` in
 * the third and fourth places only after `xn`. */
function isHostnameFormat(text: string): boolean {
  return (
    text.length >= 1 &&
    text.length <= 253 &&
    text
      .split(".")
      .every(
        (label) =>
          /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label) &&
          (label.slice(2, 4) !== "--" || label.startsWith("xn--")),
      )
  );
}
"#;

const EMAIL: &str = r#"/** An email address as the `email_address` crate reads it (an optional display name
 * before ` <address>`), with an ASCII local part of at most 64 characters and a host
 * name or an `[IPv4]`/`[IPv6:...]` literal. */
function isEmailFormat(text: string): boolean {
  let address = text;
  let quoted = false;
  let escaped = false;
  let separator = -1;
  for (let index = 0; index < text.length; index++) {
    const char = text[index];
    if (!quoted && text.startsWith(" <", index)) separator = index;
    if (escaped) escaped = false;
    else if (quoted && char === "\\") escaped = true;
    else if (char === '"') quoted = !quoted;
  }
  if (separator !== -1) {
    const right = text.slice(separator + 2).trim();
    if (!right.endsWith(">")) return false;
    address = right.slice(0, -1);
  }
  if (address.startsWith('""@')) address = `"a"${address.slice(2)}`;
  const at = address.lastIndexOf("@");
  if (at === -1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const atom = "[A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~]+";
  const localOk =
    local.length <= 64 &&
    (new RegExp(`^${atom}(?:\\.${atom})*$`).test(local) ||
      /^"(?:[\t !#-\[\]-~]|\\[!-~])+"$/.test(local));
  if (!localOk || domain.length > 254) return false;
  if (domain.startsWith("[") && domain.endsWith("]")) {
    const literal = domain.slice(1, -1);
    return /^IPv6:/i.test(literal) ? isIpv6Format(literal.slice(5)) : isIpv4Format(literal);
  }
  return isHostnameFormat(domain);
}
"#;

const URI: &str = r#"/** An RFC 3986 `URI`, or a URL exactly as the WHATWG URL Standard writes it (what Rust's
 * `url::Url` sends, e.g. `?ids[]=1`), as the server checks `uri`. */
function isUriFormat(text: string): boolean {
  return isRfc3986Uri(text) || isUrlSerialization(text);
}

/** Whether `text` parses as a URL and is written back unchanged. */
function isUrlSerialization(text: string): boolean {
  try {
    return new URL(text).href === text;
  } catch {
    return false;
  }
}

/** RFC 3986 `URI`: a scheme, then only the characters the grammar allows (no spaces,
 * ASCII only, `%` followed by two hex digits); a port is digits; an IP literal host is
 * an IPv6 address or `vX.` future form. */
function isRfc3986Uri(text: string): boolean {
  const char = "[A-Za-z0-9\\-._~!$&'()*+,;=]|%[0-9A-Fa-f]{2}";
  const match = new RegExp(
    `^[A-Za-z][A-Za-z0-9+.\\-]*:(?:\\/\\/(?:(?:${char}|:)*@)?((?:${char})*|\\[[^\\]]*\\])(?::[0-9]*)?(?=[\\/?#]|$)|(?!\\/\\/))` +
      `(?:${char}|[:@\\/])*(?:\\?(?:${char}|[:@\\/?])*)?(?:#(?:${char}|[:@\\/?])*)?$`,
  ).exec(text);
  if (match === null) return false;
  const host = match[1];
  if (host === undefined || !host.startsWith("[")) return true;
  const literal = host.slice(1, -1);
  return isIpv6Format(literal) || /^[Vv][0-9A-Fa-f]+\.(?:[A-Za-z0-9\-._~!$&'()*+,;=:])+$/.test(literal);
}
"#;

const WHATWG_URL: &str = r#"/** Whether `text` parses as a URL by the WHATWG URL Standard, as serde reads a Rust
 * `url::Url` (`x-whatwg-url`): `http://` (no host) and `http://a:99999` are URIs, no URLs. */
function isWhatwgUrl(text: string): boolean {
  try {
    new URL(text);
    return true;
  } catch {
    return false;
  }
}
"#;
