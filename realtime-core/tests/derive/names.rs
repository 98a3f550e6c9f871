//! Event names: declaration order, flattened names in place, and each rename rule.

use realtime_core::Events;
use serde_json::json;

use crate::fixtures::{AppEvent, billing};

#[test]
fn names_are_in_declaration_order_with_flattened_names_in_place() {
    assert_eq!(
        AppEvent::NAMES,
        [
            "notification.alert",
            "chat.message",
            "user.joined",
            "system.reset",
            "app.runFinished",
            "shop.order",
            "shop.paid",
            "shop.tagged",
            "user.profile",
            "app.ping",
            "app.keyword",
            "billing.invoicePaid",
            "billing.refunded",
        ]
    );
    assert_eq!(AppEvent::TYPE_NAME, "AppEvent");
    assert_eq!(
        billing::BillingEvent::NAMES,
        ["billing.invoicePaid", "billing.refunded"]
    );
}

macro_rules! rule_enum {
    ($name:ident, $rule:literal) => {
        #[derive(Events, Clone, Debug, PartialEq)]
        #[events(namespace = "ns.sub", rename_all = $rule)]
        enum $name {
            RunFinished,
            HttpRequestSent(u32),
        }
    };
}

rule_enum!(Camel, "camelCase");
rule_enum!(Snake, "snake_case");
rule_enum!(Kebab, "kebab-case");
rule_enum!(Pascal, "PascalCase");
rule_enum!(ScreamingSnake, "SCREAMING_SNAKE_CASE");
rule_enum!(ScreamingKebab, "SCREAMING-KEBAB-CASE");
rule_enum!(Lower, "lowercase");
rule_enum!(Upper, "UPPERCASE");

#[derive(Events, Clone, Debug, PartialEq)]
#[events(namespace = "plain")]
enum DefaultRule {
    RunFinished,
    #[event("explicit.wins")]
    Explicit,
}

#[test]
fn derived_names_follow_each_rename_rule() {
    assert_eq!(
        Camel::NAMES,
        ["ns.sub.runFinished", "ns.sub.httpRequestSent"]
    );
    assert_eq!(
        Snake::NAMES,
        ["ns.sub.run_finished", "ns.sub.http_request_sent"]
    );
    assert_eq!(
        Kebab::NAMES,
        ["ns.sub.run-finished", "ns.sub.http-request-sent"]
    );
    assert_eq!(
        Pascal::NAMES,
        ["ns.sub.RunFinished", "ns.sub.HttpRequestSent"]
    );
    assert_eq!(
        ScreamingSnake::NAMES,
        ["ns.sub.RUN_FINISHED", "ns.sub.HTTP_REQUEST_SENT"]
    );
    assert_eq!(
        ScreamingKebab::NAMES,
        ["ns.sub.RUN-FINISHED", "ns.sub.HTTP-REQUEST-SENT"]
    );
    assert_eq!(
        Lower::NAMES,
        ["ns.sub.runfinished", "ns.sub.httprequestsent"]
    );
    assert_eq!(
        Upper::NAMES,
        ["ns.sub.RUNFINISHED", "ns.sub.HTTPREQUESTSENT"]
    );
    assert_eq!(DefaultRule::NAMES, ["plain.runFinished", "explicit.wins"]);
    // The derived name is the wire name too.
    assert_eq!(Snake::HttpRequestSent(7).name(), "ns.sub.http_request_sent");
    assert_eq!(
        Snake::from_data("ns.sub.http_request_sent", json!(7)).unwrap(),
        Snake::HttpRequestSent(7)
    );
}
