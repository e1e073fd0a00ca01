//! Response headers every response gets (strict CSP without inline script, no framing, no
//! referrer, HSTS over HTTPS) and the second CSRF layer: unsafe requests coming from another
//! site are refused.

use axum::extract::Request;
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
form-action 'self'; frame-ancestors 'none'; base-uri 'none'; connect-src 'self'";

/// `Strict-Transport-Security` when Kapstone is served over HTTPS: one year, subdomains too.
const HSTS: &str = "max-age=31536000; includeSubDomains";

/// The security headers every response carries (and HSTS when served over HTTPS).
pub async fn headers(hsts: bool, req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    if hsts {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(HSTS),
        );
    }
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

/// Refuses POST/PUT/PATCH/DELETE that a browser marks as cross-site, or whose `Origin` names a
/// host other than the one addressed. Requests without these headers (API clients, old
/// browsers) still need the synchroniser token or a bearer token.
pub async fn same_origin_writes(req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    if unsafe_method {
        let h = req.headers();
        if h.get("sec-fetch-site").and_then(|v| v.to_str().ok()) == Some("cross-site") {
            return refuse();
        }
        if let Some(origin) = h.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
            let host = h
                .get(header::HOST)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            let origin_host = origin.split_once("://").map_or("", |(_, rest)| rest);
            // With `Referrer-Policy: no-referrer` browsers send `Origin: null` on form posts;
            // that says nothing either way, so only a named foreign origin is refused.
            if origin != "null" && origin_host != host {
                return refuse();
            }
        }
    }
    next.run(req).await
}

fn refuse() -> Response {
    (
        StatusCode::FORBIDDEN,
        axum::response::Html(crate::http::view::error_page(
            "Form expired",
            "This request came from another site and was refused.",
        )),
    )
        .into_response()
}

/// Holds every read-only request's answer until the audit rows of what it read are durable
/// (see [`kap_store::AuditScope`]): the reads of a page go to the group commit together and the
/// page waits once. If the rows cannot be written the answer is a 500 and nothing read is
/// sent. Requests that change data keep each read waiting for its own rows, so a refusal of
/// the audit trail surfaces before their writes, not after.
pub async fn audit_before_answer(req: Request, next: Next) -> Response {
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return next.run(req).await;
    }
    let api = req.uri().path().starts_with("/api/");
    let scope = kap_store::AuditScope::default();
    let res = scope.run(next.run(req)).await;
    match scope.durable().await {
        Ok(()) => res,
        Err(e) if api => crate::http::ApiError::from(e).into_response(),
        Err(e) => crate::http::AppError::from(e).into_response(),
    }
}
