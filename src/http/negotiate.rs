//! Which of the GraphQL-over-HTTP media types a client accepts: `application/graphql-response+json`
//! (status codes say whether the request itself failed) or `application/json` (always 200, for
//! the clients that predate it, and for those that send no `Accept`).

use axum::http::{HeaderMap, header};

/// The media type of a GraphQL answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Format {
    Json,
    GraphqlResponse,
}

impl Format {
    pub(crate) fn content_type(self) -> &'static str {
        match self {
            Format::Json => "application/json",
            Format::GraphqlResponse => "application/graphql-response+json; charset=utf-8",
        }
    }
}

/// The format to answer in, or `None` when the client accepts neither (406).
pub(crate) fn format(headers: &HeaderMap) -> Option<Format> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some(Format::Json);
    };
    // The best quality the client gives each type, through its own name or a wildcard.
    let (mut graphql, mut json, mut any) = (None::<f32>, None::<f32>, None::<f32>);
    for range in accept.split(',') {
        let mut parts = range.split(';');
        let media = parts.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = parts
            .filter_map(|p| p.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        let slot = match media.as_str() {
            "application/graphql-response+json" => &mut graphql,
            "application/json" => &mut json,
            "*/*" | "application/*" => &mut any,
            _ => continue,
        };
        *slot = Some(slot.map_or(q, |best| best.max(q)));
    }
    let graphql = graphql.or(any).unwrap_or(0.0);
    let json = json.or(any).unwrap_or(0.0);
    match (graphql > 0.0, json > 0.0) {
        (false, false) => None,
        // Named, and not less wanted than plain JSON.
        (true, _) if graphql >= json && accept.contains("graphql-response+json") => {
            Some(Format::GraphqlResponse)
        }
        (_, true) => Some(Format::Json),
        (true, false) => Some(Format::GraphqlResponse),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn f(accept: Option<&'static str>) -> Option<Format> {
        let mut h = HeaderMap::new();
        if let Some(a) = accept {
            h.insert(header::ACCEPT, HeaderValue::from_static(a));
        }
        format(&h)
    }

    #[test]
    fn the_graphql_type_when_named_json_otherwise() {
        assert_eq!(f(None), Some(Format::Json));
        assert_eq!(f(Some("*/*")), Some(Format::Json));
        assert_eq!(f(Some("application/json")), Some(Format::Json));
        assert_eq!(
            f(Some("application/graphql-response+json")),
            Some(Format::GraphqlResponse)
        );
        assert_eq!(
            f(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Format::GraphqlResponse)
        );
        assert_eq!(
            f(Some(
                "application/graphql-response+json;q=0.5, application/json"
            )),
            Some(Format::Json)
        );
        assert_eq!(f(Some("text/html")), None);
        assert_eq!(f(Some("application/xml, application/json;q=0")), None);
    }
}
