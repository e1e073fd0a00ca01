//! A QR code as inline SVG (no image crates, no scripts): one path of dark modules on a white
//! square with the quiet zone the standard asks for.

use qrcodegen::{QrCode, QrCodeEcc};

/// Modules of white border around the code (ISO/IEC 18004 asks for four).
const QUIET: i32 = 4;

/// The SVG of `text` as a QR code, with `label` as its accessible name; `None` if the text is
/// too long for any QR code.
pub fn qr_svg(text: &str, label: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let full = size + 2 * QUIET;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET, y + QUIET));
            }
        }
    }
    let label = label
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('"', "&quot;");
    Some(format!(
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="qr" viewBox="0 0 {full} {full}" role="img" aria-label="{label}" shape-rendering="crispEdges"><rect width="{full}" height="{full}" fill="#fff"/><path d="{path}" fill="#000"/></svg>"##
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_qr_code_is_an_svg_with_a_quiet_zone_and_a_name() {
        let svg =
            qr_svg("otpauth://totp/Kapstone:a%40b.org?secret=ABC", "QR <code>").unwrap_or_default();
        assert!(svg.starts_with("<svg ") && svg.ends_with("</svg>"));
        assert!(svg.contains("aria-label=\"QR &lt;code>\""));
        // Version 3 or so: 29 modules plus the border on each side.
        assert!(svg.contains("viewBox=\"0 0 "));
        assert!(!svg.contains("style="), "nothing the CSP would refuse");
        assert!(qr_svg(&"x".repeat(5000), "too long").is_none());
    }
}
