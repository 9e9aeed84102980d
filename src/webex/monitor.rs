//! When Webex last responded: every call through the [`WebexClient`]
//! records its outcome here, and `GET /readyz` reads it to tell whether the
//! upstream was reached recently, probing it when not.
//!
//! [`WebexClient`]: super::WebexClient

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The latest contact with Webex, shared by every clone of a client.
#[derive(Debug, Default)]
pub struct UpstreamMonitor {
    contact: Mutex<Contact>,
}

#[derive(Debug, Default, Clone)]
struct Contact {
    last_response: Option<Instant>,
    last_failure: Option<(Instant, String)>,
}

/// The recorded state of the upstream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UpstreamContact {
    /// Webex responded within the recent window, after any failure.
    Recent { age: Duration },
    /// No recent response, or a failure came after the last response.
    Stale {
        last_response_age: Option<Duration>,
        last_failure: Option<String>,
    },
}

impl UpstreamMonitor {
    /// Records that Webex responded, with any status.
    pub fn record_response(&self) {
        self.lock().last_response = Some(Instant::now());
    }

    /// Records that a call got no response, with the reason.
    pub fn record_failure(&self, cause: impl Into<String>) {
        self.lock().last_failure = Some((Instant::now(), cause.into()));
    }

    /// Classifies the latest contact against the `recent` window.
    pub fn contact(&self, recent: Duration) -> UpstreamContact {
        let contact = self.lock().clone();
        let failed_after_response = match (&contact.last_failure, contact.last_response) {
            (Some((failed, _)), Some(responded)) => *failed >= responded,
            (Some(_), None) => true,
            (None, _) => false,
        };
        match contact.last_response.map(|at| at.elapsed()) {
            Some(age) if age <= recent && !failed_after_response => UpstreamContact::Recent { age },
            last_response_age => UpstreamContact::Stale {
                last_response_age,
                last_failure: contact.last_failure.map(|(_, cause)| cause),
            },
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Contact> {
        // The data is two timestamps, valid even if a holder panicked.
        self.contact.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const WINDOW: Duration = Duration::from_secs(60);

    #[test]
    fn contact_without_calls_is_stale() {
        let monitor = UpstreamMonitor::default();
        let expected = UpstreamContact::Stale {
            last_response_age: None,
            last_failure: None,
        };
        assert_eq!(monitor.contact(WINDOW), expected);
    }

    #[test]
    fn contact_after_response_is_recent() {
        let monitor = UpstreamMonitor::default();
        monitor.record_response();
        assert!(matches!(
            monitor.contact(WINDOW),
            UpstreamContact::Recent { .. }
        ));
    }

    #[test]
    fn contact_after_failure_is_stale() {
        let monitor = UpstreamMonitor::default();
        monitor.record_response();
        monitor.record_failure("connection refused");
        match monitor.contact(WINDOW) {
            UpstreamContact::Stale {
                last_response_age,
                last_failure,
            } => {
                assert!(last_response_age.is_some());
                assert_eq!(last_failure.as_deref(), Some("connection refused"));
            }
            other => panic!("expected stale, got {other:?}"),
        }
    }

    #[test]
    fn contact_outside_window_is_stale() {
        let monitor = UpstreamMonitor::default();
        monitor.record_response();
        assert!(matches!(
            monitor.contact(Duration::ZERO),
            UpstreamContact::Stale { .. }
        ));
    }
}
