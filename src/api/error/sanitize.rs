//! Text from a server, made safe to show: no HTML, no terminal escape sequences, no tokens,
//! and not too long.

/// Makes server-provided text safe to show in a terminal and free of credentials: HTML tags
/// stripped, control characters (escape sequences) dropped, JWTs redacted, length bounded.
pub(crate) fn sanitize_server_text(text: &str, max_chars: usize) -> String {
    let without_tags = if text.trim_start().starts_with('<') {
        strip_html_tags(text)
    } else {
        text.to_owned()
    };
    let redacted = redact_jwts(&without_tags);
    let mut clean = String::with_capacity(redacted.len().min(max_chars));
    let mut count = 0;
    for word in redacted
        .split(|c: char| c.is_whitespace() || c.is_control())
        .filter(|w| !w.is_empty())
    {
        if !clean.is_empty() {
            clean.push(' ');
            count += 1;
        }
        for c in word.chars() {
            if count >= max_chars {
                clean.push('…');
                return clean;
            }
            clean.push(c);
            count += 1;
        }
    }
    clean
}

fn strip_html_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => {
                in_tag = false;
                out.push(' ');
            }
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// A JWT starts with the base64url of `{"`, which is `eyJ`; a server that echoes request
/// headers (a debugging proxy, say) would otherwise put a live token on screen.
fn redact_jwts(text: &str) -> String {
    const MIN_TOKEN_LEN: usize = 16;
    let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("eyJ") {
        let candidate = &rest[start..];
        let len = candidate
            .find(|c: char| !is_token_char(c))
            .unwrap_or(candidate.len());
        let preceded_by_token_char = rest[..start].chars().next_back().is_some_and(is_token_char);
        out.push_str(&rest[..start]);
        if len >= MIN_TOKEN_LEN && !preceded_by_token_char {
            out.push_str("<redacted token>");
        } else {
            out.push_str(&candidate[..len]);
        }
        rest = &candidate[len..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_text_is_made_safe() {
        let html = "<html><head><title>502 Bad Gateway</title></head>\n<body><h1>502 Bad Gateway</h1><hr>nginx</body></html>";
        assert_eq!(
            sanitize_server_text(html, 200),
            "502 Bad Gateway 502 Bad Gateway nginx"
        );
        assert_eq!(
            sanitize_server_text("bad\x1b[31m red\ttext\r\n", 200),
            "bad [31m red text"
        );
        assert_eq!(sanitize_server_text("abcdefgh", 4), "abcd…");
        let echoed = "header was Bearer eyJhbGciOiJIUzI1NiJ9.eyJpc3MiOiJrZXkifQ.c2lnbmF0dXJl ok";
        assert_eq!(
            sanitize_server_text(echoed, 200),
            "header was Bearer <redacted token> ok"
        );
        assert_eq!(sanitize_server_text("keyJump", 200), "keyJump");
    }
}
