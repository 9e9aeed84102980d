//! Fault injection: added latency, scripted error statuses, `Retry-After`
//! and dropped connections per emulated route, and a count of the calls
//! each route received.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tokio::sync::Notify;

use super::routes::webex_error;

/// Route key that matches every emulated route.
pub const ANY_ROUTE: &str = "*";

/// Faults for one route, as written in `[emulator.faults]` or sent to
/// `PUT /_emulator/faults`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RouteFault {
    /// Delay added before every response on the route (milliseconds).
    #[serde(default)]
    pub latency_ms: u64,
    /// Responses to the next calls, in order. Once they are used up, the
    /// route serves calls normally.
    #[serde(default)]
    pub responses: Vec<FaultStep>,
    /// `Retry-After` seconds sent with injected 429, 423 and 503 responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after: Option<u64>,
}

/// One scripted response: a status code (2xx serves the call normally) or
/// `"drop"`, which closes the connection without a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum FaultStep {
    Status(u16),
    Action(FaultAction),
}

/// A scripted response that is not a status code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FaultAction {
    Drop,
}

/// A route key or fault that is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fault for route {route:?} {message}")]
pub struct FaultError {
    pub route: String,
    pub message: String,
}

/// Validated faults keyed by normalized route (`POST /jwt/login` or `*`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Faults {
    routes: HashMap<String, RouteFault>,
}

impl Faults {
    /// Normalizes the route keys and checks every scripted status.
    pub fn from_routes(routes: HashMap<String, RouteFault>) -> Result<Self, FaultError> {
        let mut checked = HashMap::with_capacity(routes.len());
        for (key, fault) in routes {
            let error = |message: String| FaultError {
                route: key.clone(),
                message,
            };
            let route = normalize_route(&key).map_err(error)?;
            for step in &fault.responses {
                if let FaultStep::Status(status) = step
                    && !(200..=599).contains(status)
                {
                    return Err(error(format!(
                        "has status {status} in responses; use 200 to 599 or \"drop\""
                    )));
                }
            }
            checked.insert(route, fault);
        }
        Ok(Self { routes: checked })
    }
}

/// Turns `post /jwt/login/` into `POST /jwt/login`; `*` stays as it is.
fn normalize_route(key: &str) -> Result<String, String> {
    let key = key.trim();
    if key == ANY_ROUTE {
        return Ok(key.to_owned());
    }
    let invalid = || {
        format!(
            "has an invalid key {key:?}; use \"METHOD /path\" below /v1, such as \"POST /jwt/login\", or \"*\""
        )
    };
    let (method, path) = key.split_once(' ').ok_or_else(invalid)?;
    let method =
        Method::from_bytes(method.to_ascii_uppercase().as_bytes()).map_err(|_| invalid())?;
    let path = path.trim();
    if !path.starts_with('/') || path.contains(char::is_whitespace) {
        return Err(invalid());
    }
    Ok(route_key(&method, path))
}

/// Builds the key of a call: its method and path below `/v1`.
pub fn route_key(method: &Method, path: &str) -> String {
    let path = match path.trim_end_matches('/') {
        "" => "/",
        trimmed => trimmed,
    };
    format!("{method} {path}")
}

/// The injector's plan for one call.
struct Plan {
    latency: Duration,
    step: Option<FaultStep>,
    retry_after: Option<u64>,
}

#[derive(Debug, Default)]
struct Injection {
    faults: HashMap<String, RouteFault>,
    calls: BTreeMap<String, u64>,
}

/// Active faults and call counters, shared by the middleware and the
/// control endpoint.
#[derive(Debug, Default)]
pub struct FaultInjector {
    injection: Mutex<Injection>,
}

impl FaultInjector {
    pub fn new(faults: Faults) -> Self {
        let injection = Injection {
            faults: faults.routes,
            calls: BTreeMap::new(),
        };
        Self {
            injection: Mutex::new(injection),
        }
    }

    /// Replaces every active fault with `faults`.
    pub fn replace(&self, faults: Faults) {
        self.lock().faults = faults.routes;
    }

    /// Removes every active fault.
    pub fn clear(&self) {
        self.lock().faults.clear();
    }

    /// Returns the active faults, with only the responses not yet used.
    pub fn active(&self) -> BTreeMap<String, RouteFault> {
        self.lock().faults.clone().into_iter().collect()
    }

    /// Returns how many calls each route received since start or the last
    /// reset.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.lock().calls.clone()
    }

    /// Sets every call counter back to zero.
    pub fn reset_calls(&self) {
        self.lock().calls.clear();
    }

    /// Counts a call and takes the next scripted response for its route.
    fn plan(&self, route: &str) -> Plan {
        let mut injection = self.lock();
        *injection.calls.entry(route.to_owned()).or_default() += 1;
        let key = if injection.faults.contains_key(route) {
            route
        } else {
            ANY_ROUTE
        };
        let Some(fault) = injection.faults.get_mut(key) else {
            return Plan {
                latency: Duration::ZERO,
                step: None,
                retry_after: None,
            };
        };
        let step = (!fault.responses.is_empty()).then(|| fault.responses.remove(0));
        Plan {
            latency: Duration::from_millis(fault.latency_ms),
            step,
            retry_after: fault.retry_after,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Injection> {
        // A panic while the lock is held cannot leave the maps half-written,
        // so a poisoned lock is still safe to use.
        self.injection
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// Closes the connection a request arrived on; the emulator's accept loop
/// puts one in the extensions of every request.
#[derive(Debug, Clone, Default)]
pub struct ConnectionCloser(pub Arc<Notify>);

/// Middleware around the emulated Webex routes: counts the call, waits the
/// added latency, then serves it, responds with the scripted status, or
/// drops the connection.
pub async fn inject(
    State(injector): State<Arc<FaultInjector>>,
    request: Request,
    next: Next,
) -> Response {
    let route = route_key(request.method(), request.uri().path());
    let plan = injector.plan(&route);
    if !plan.latency.is_zero() {
        tokio::time::sleep(plan.latency).await;
    }
    match plan.step {
        None => next.run(request).await,
        Some(FaultStep::Status(status)) if (200..300).contains(&status) => next.run(request).await,
        Some(FaultStep::Status(status)) => injected_status(status, plan.retry_after),
        Some(FaultStep::Action(FaultAction::Drop)) => {
            let closer = request.extensions().get::<ConnectionCloser>().cloned();
            drop_connection(closer, &route).await
        }
    }
}

fn injected_status(status: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Injected failure");
    let mut response = webex_error(status, &format!("{reason} (injected by the emulator)"));
    let sends_retry_after = matches!(status.as_u16(), 423 | 429 | 503);
    if let (true, Some(seconds)) = (sends_retry_after, retry_after) {
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

async fn drop_connection(closer: Option<ConnectionCloser>, route: &str) -> Response {
    let Some(closer) = closer else {
        tracing::warn!(route, "cannot drop a connection outside emulator::spawn");
        return webex_error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "The emulator cannot drop this connection because it was not served by emulator::spawn.",
        );
    };
    tracing::info!(route, "emulator drops the connection without a response");
    closer.0.notify_one();
    std::future::pending::<()>().await;
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn faults(key: &str, fault: RouteFault) -> Result<Faults, FaultError> {
        Faults::from_routes(HashMap::from([(key.to_owned(), fault)]))
    }

    #[test]
    fn route_keys_are_normalized() {
        let parsed = faults("post /jwt/login/", RouteFault::default()).unwrap();
        assert!(parsed.routes.contains_key("POST /jwt/login"));
        assert!(faults("*", RouteFault::default()).is_ok());
        assert!(faults("/jwt/login", RouteFault::default()).is_err());
        assert!(faults("POST jwt/login", RouteFault::default()).is_err());
    }

    #[test]
    fn statuses_outside_200_to_599_are_rejected() {
        let fault = RouteFault {
            responses: vec![FaultStep::Status(99)],
            ..RouteFault::default()
        };
        let error = faults("POST /jwt/login", fault).unwrap_err();
        assert!(error.message.contains("status 99"), "{error}");
    }

    #[test]
    fn steps_are_used_in_order_then_calls_pass() {
        let fault = RouteFault {
            responses: vec![FaultStep::Status(503), FaultStep::Action(FaultAction::Drop)],
            retry_after: Some(2),
            ..RouteFault::default()
        };
        let injector = FaultInjector::new(faults("POST /jwt/login", fault).unwrap());
        let steps: Vec<_> = (0..3)
            .map(|_| injector.plan("POST /jwt/login").step)
            .collect();
        assert_eq!(
            steps,
            [
                Some(FaultStep::Status(503)),
                Some(FaultStep::Action(FaultAction::Drop)),
                None
            ]
        );
        assert_eq!(injector.calls()["POST /jwt/login"], 3);
    }

    #[test]
    fn steps_deserialize_from_numbers_and_drop() {
        let fault: RouteFault =
            serde_json::from_str(r#"{"responses": [503, "drop"], "retry_after": 1}"#).unwrap();
        assert_eq!(
            fault.responses,
            [FaultStep::Status(503), FaultStep::Action(FaultAction::Drop)]
        );
        assert!(serde_json::from_str::<RouteFault>(r#"{"responses": ["hang"]}"#).is_err());
    }
}
