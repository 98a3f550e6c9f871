//! Reading `GET /metrics` (the Prometheus text format) as a test does: every sample by
//! name and labels.

use std::collections::BTreeMap;

/// One scrape: the samples of every metric.
#[derive(Clone, Debug, Default)]
pub struct Scrape {
    samples: Vec<Sample>,
}

#[derive(Clone, Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

impl Scrape {
    /// Parses Prometheus text: `# ...` lines are skipped, every other line must be a
    /// sample, `name{label="value",...} number`.
    ///
    /// ```
    /// use example_support::testing::Scrape;
    ///
    /// let scrape = Scrape::parse(
    ///     "# TYPE realtime_emits_total counter\n\
    ///      realtime_emits_total{event=\"chat.message\",outcome=\"ok\"} 3\n\
    ///      realtime_emits_total{event=\"chat.message\",outcome=\"invalid\"} 1\n\
    ///      realtime_sse_open_streams 2\n",
    /// );
    /// assert_eq!(scrape.value("realtime_emits_total", &[("outcome", "ok")]), 3.0);
    /// assert_eq!(scrape.value("realtime_emits_total", &[]), 4.0);
    /// assert_eq!(scrape.value("realtime_sse_open_streams", &[]), 2.0);
    /// assert_eq!(scrape.value("realtime_not_recorded", &[]), 0.0);
    /// ```
    ///
    /// # Panics
    /// On a line that is not a sample, naming it.
    pub fn parse(text: &str) -> Self {
        let samples = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .map(|line| {
                parse_sample(line)
                    .unwrap_or_else(|| panic!("not a Prometheus sample: {line:?} in\n{text}"))
            })
            .collect();
        Self { samples }
    }

    /// The sum of the samples of `name` that carry every label of `labels` (others may
    /// have more labels); 0 when there is none, as for a counter never incremented.
    pub fn value(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|sample| sample.name == name)
            .filter(|sample| {
                labels
                    .iter()
                    .all(|(key, value)| sample.labels.get(*key).map(String::as_str) == Some(value))
            })
            .map(|sample| sample.value)
            .sum()
    }
}

fn parse_sample(line: &str) -> Option<Sample> {
    let name_end = line.find(['{', ' '])?;
    let name = line[..name_end].to_owned();
    let mut rest = &line[name_end..];
    let mut labels = BTreeMap::new();
    if let Some(inside) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inside)?;
        labels = parsed;
        rest = after;
    }
    let value = rest.split_whitespace().next()?;
    let value = match value {
        "+Inf" => f64::INFINITY,
        "-Inf" => f64::NEG_INFINITY,
        number => number.parse().ok()?,
    };
    Some(Sample {
        name,
        labels,
        value,
    })
}

/// Parses `key="value",...}` (escapes `\\`, `\"`, `\n`); returns the labels and the rest.
fn parse_labels(mut text: &str) -> Option<(BTreeMap<String, String>, &str)> {
    let mut labels = BTreeMap::new();
    loop {
        text = text.trim_start_matches(',');
        if let Some(rest) = text.strip_prefix('}') {
            return Some((labels, rest));
        }
        let (key, after_key) = text.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after_key.char_indices();
        let end = loop {
            match chars.next()? {
                (index, '"') => break index,
                (_, '\\') => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    escaped => value.push(escaped),
                },
                (_, other) => value.push(other),
            }
        };
        labels.insert(key.to_owned(), value);
        text = &after_key[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_with_escapes_and_histogram_buckets_are_read() {
        let scrape = Scrape::parse(
            "realtime_emits_total{event=\"(unknown)\",outcome=\"in\\\"valid\"} 2\n\
             realtime_emit_duration_seconds_bucket{le=\"+Inf\"} 5\n\
             realtime_emit_duration_seconds_count 5\n",
        );
        assert_eq!(
            scrape.value("realtime_emits_total", &[("outcome", "in\"valid")]),
            2.0
        );
        assert_eq!(
            scrape.value("realtime_emit_duration_seconds_bucket", &[("le", "+Inf")]),
            5.0
        );
        assert_eq!(
            scrape.value("realtime_emit_duration_seconds_count", &[]),
            5.0
        );
    }

    #[test]
    #[should_panic(expected = "not a Prometheus sample")]
    fn a_line_that_is_not_a_sample_fails() {
        Scrape::parse("realtime_emits_total{event=\"x\" 3\n");
    }
}
