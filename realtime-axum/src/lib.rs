//! The SSE endpoint for browsers (wire-compatible with @upstash/realtime): issue 4.
