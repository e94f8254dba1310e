#!/usr/bin/env python3
"""Render a real terminal screen (tmux capture-pane -e output) to a PNG, for the README.

Usage:
    python3 scripts/screenshot.py CAPTURE.ansi OUT.png [--cols 160 --rows 48]
            [--font /usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf] [--size 15]
            [--title TEXT] [--no-frame]
    python3 scripts/screenshot.py --tmux SESSION OUT.png [...]

CAPTURE.ansi is what `tmux capture-pane -e -p -t SESSION` prints (`-` reads it from stdin);
`--tmux SESSION` runs `tmux capture-pane -e -p -N -t SESSION` itself (no -J, so rows stay rows;
-N keeps trailing spaces, which carry background colours) and takes the pane's size as the
default --cols/--rows. For a capture file the defaults are the capture's line count and its
widest line; tmux trims trailing blanks, so pass --cols/--rows for an exact size. Rows past
the capture are blank, every row is padded (or cut) to --cols.

Dependency: Pillow (`pip install pillow`). It is a developer-only dependency of this script;
nothing in the build, the tests or CI needs it.

Rendering:
  * Monospace grid from the font's metrics: cell width = advance of "M" (rounded to whole
    pixels so columns never drift), cell height = ascent + descent + a small line gap.
  * Colours: the Catppuccin Mocha theme (background #1e1e2e, foreground #cdd6f4, and its
    16-colour ANSI palette); the xterm 6x6x6 cube and grey ramp for 16-255; truecolor as is.
  * SGR attributes: bold (the font's -Bold file, e.g. DejaVuSansMono-Bold.ttf), dim (fg blended
    50% toward bg), italic (-Oblique file), underline, strikethrough, reverse, hidden; 22/23/24/
    27/28/29 and 39/49 resets; 38;5;n / 48;5;n / 38;2;r;g;b / 48;2;r;g;b, and their colon forms.
  * Box drawing and block elements (U+2500-U+259F) and Braille (U+2800-U+28FF) are drawn as
    vector shapes filling the cell, so borders and bars join seamlessly between cells;
    everything else uses the font (with DejaVu Sans and other installed fonts as fallbacks for
    glyphs the monospace font lacks). East Asian wide characters take two cells.
  * --frame (default) wraps the grid in a rounded window with a title bar and macOS-like dots
    and a soft shadow on a transparent background; --no-frame gives just the padded grid.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
import unicodedata

try:
    from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont
except ImportError:  # pragma: no cover - depends on the developer's machine
    sys.exit("screenshot.py needs Pillow (a dev-only dependency): pip install pillow")

DEFAULT_FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf"

# Catppuccin Mocha (https://github.com/catppuccin/catppuccin), terminal palette.
THEME_BG = (0x1E, 0x1E, 0x2E)  # base
THEME_FG = (0xCD, 0xD6, 0xF4)  # text
TITLE_BAR_BG = (0x18, 0x18, 0x25)  # mantle
TITLE_BAR_RULE = (0x11, 0x11, 0x1B)  # crust
TITLE_FG = (0xA6, 0xAD, 0xC8)  # subtext0
WINDOW_OUTLINE = (0x45, 0x47, 0x5A, 255)  # surface1
PALETTE16 = [
    (0x45, 0x47, 0x5A),  # 0 black   (surface1)
    (0xF3, 0x8B, 0xA8),  # 1 red
    (0xA6, 0xE3, 0xA1),  # 2 green
    (0xF9, 0xE2, 0xAF),  # 3 yellow
    (0x89, 0xB4, 0xFA),  # 4 blue
    (0xF5, 0xC2, 0xE7),  # 5 magenta (pink)
    (0x94, 0xE2, 0xD5),  # 6 cyan    (teal)
    (0xBA, 0xC2, 0xDE),  # 7 white   (subtext1)
    (0x58, 0x5B, 0x70),  # 8 bright black (surface2)
    (0xF3, 0x77, 0x99),  # 9 bright red
    (0x89, 0xD8, 0x8B),  # 10 bright green
    (0xEB, 0xD3, 0x91),  # 11 bright yellow
    (0x74, 0xA8, 0xFC),  # 12 bright blue
    (0xF2, 0xAE, 0xDE),  # 13 bright magenta
    (0x6B, 0xD7, 0xCA),  # 14 bright cyan
    (0xA6, 0xAD, 0xC8),  # 15 bright white (subtext0)
]
MAC_DOTS = [(0xFF, 0x5F, 0x57), (0xFE, 0xBC, 0x2E), (0x28, 0xC8, 0x40)]


# --------------------------------------------------------------------------------------------
# Parsing


class Style:
    """SGR state. Colours are None (default), an int 0-255, or an (r, g, b) tuple."""

    __slots__ = ("fg", "bg", "bold", "dim", "italic", "underline", "reverse", "strike", "hidden")

    def __init__(self):
        self.reset()

    def reset(self):
        self.fg = None
        self.bg = None
        self.bold = self.dim = self.italic = self.underline = False
        self.reverse = self.strike = self.hidden = False

    def copy(self) -> "Style":
        s = Style.__new__(Style)
        for k in Style.__slots__:
            setattr(s, k, getattr(self, k))
        return s


def _int(s: str, default: int = 0) -> int:
    try:
        return int(s) if s != "" else default
    except ValueError:
        return default


def _clamp8(v: int) -> int:
    return max(0, min(255, v))


# SGR codes that switch attributes on, and those that switch them off.
_SGR_SETS = {1: "bold", 2: "dim", 3: "italic", 4: "underline", 21: "underline", 7: "reverse", 8: "hidden", 9: "strike"}
_SGR_CLEARS = {22: ("bold", "dim"), 23: ("italic",), 24: ("underline",), 27: ("reverse",), 28: ("hidden",), 29: ("strike",)}


def _set_colour(st: Style, code: int, colour) -> None:
    """An extended colour (38 foreground, 48 background); 58, the underline colour, is dropped."""
    if colour is None:
        return
    if code == 38:
        st.fg = colour
    elif code == 48:
        st.bg = colour


def apply_sgr(st: Style, params: str) -> None:
    """Apply one SGR parameter string (the part between ESC[ and m) to the style."""
    toks = params.split(";") if params else ["0"]
    i = 0
    while i < len(toks):
        tok = toks[i]
        i += 1
        if ":" in tok:  # ITU T.416 colon sub-parameters: 38:2::r:g:b, 38:5:n, 4:3 ...
            parts = tok.split(":")
            code = _int(parts[0])
            if code in (38, 48, 58):
                colour = None
                kind = _int(parts[1], -1) if len(parts) > 1 else -1
                if kind == 5 and len(parts) > 2:
                    colour = _int(parts[2]) & 0xFF
                elif kind == 2:
                    rgb = parts[3:6] if len(parts) >= 6 else parts[2:5]
                    if len(rgb) == 3:
                        colour = tuple(_clamp8(_int(c)) for c in rgb)
                _set_colour(st, code, colour)
            elif code == 4:
                st.underline = _int(parts[1]) != 0 if len(parts) > 1 else True
            continue
        code = _int(tok)
        if code == 0:
            st.reset()
        elif code in _SGR_SETS:
            setattr(st, _SGR_SETS[code], True)
        elif code in _SGR_CLEARS:
            for attribute in _SGR_CLEARS[code]:
                setattr(st, attribute, False)
        elif 30 <= code <= 37:
            st.fg = code - 30
        elif 90 <= code <= 97:
            st.fg = code - 90 + 8
        elif 40 <= code <= 47:
            st.bg = code - 40
        elif 100 <= code <= 107:
            st.bg = code - 100 + 8
        elif code == 39:
            st.fg = None
        elif code == 49:
            st.bg = None
        elif code in (38, 48, 58):
            colour = None
            kind = _int(toks[i], -1) if i < len(toks) else -1
            if kind == 5 and i + 1 < len(toks):
                colour = _int(toks[i + 1]) & 0xFF
                i += 2
            elif kind == 2 and i + 3 < len(toks):
                colour = tuple(_clamp8(_int(c)) for c in toks[i + 1 : i + 4])
                i += 4
            else:
                i += 1
            _set_colour(st, code, colour)
        # everything else (blink, fonts, overline, ...) is ignored


class Cell:
    __slots__ = ("text", "style", "width")

    def __init__(self, text: str, style: Style, width: int):
        self.text = text  # "" for the right half of a wide character
        self.style = style
        self.width = width  # 1 or 2; 0 for the right half of a wide character


def char_width(ch: str) -> int:
    """Cells a character takes: 0 (combining / format), 1, or 2 (East Asian wide)."""
    if unicodedata.combining(ch) or unicodedata.category(ch) in ("Mn", "Me", "Cf"):
        return 0
    if "\ufe00" <= ch <= "\ufe0f":  # variation selectors
        return 0
    return 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1


def parse_capture(data: str) -> list[list[Cell]]:
    """Turn capture-pane -e output into rows of cells. The SGR state carries across lines, as
    tmux emits it (it only writes a code where the attributes change)."""
    rows: list[list[Cell]] = []
    row: list[Cell] = []
    st = Style()
    cur = st.copy()  # shared by consecutive cells until the style changes
    i, n = 0, len(data)
    if data.endswith("\n"):
        n -= 1  # the final newline closes the last row rather than opening a new one
    while i < n:
        ch = data[i]
        if ch == "\x1b":
            nxt = data[i + 1] if i + 1 < n else ""
            if nxt == "[":  # CSI: ESC [ params intermediates final
                j = i + 2
                while j < n and not ("\x40" <= data[j] <= "\x7e"):
                    j += 1
                if j < n and data[j] == "m":
                    apply_sgr(st, data[i + 2 : j])
                    cur = st.copy()
                i = j + 1
            elif nxt == "]" or nxt in "PX^_":  # OSC / DCS / ...: up to BEL or ST
                j = i + 2
                while j < n:
                    if data[j] == "\x07":
                        j += 1
                        break
                    if data[j] == "\x1b" and j + 1 < n and data[j + 1] == "\\":
                        j += 2
                        break
                    j += 1
                i = j
            else:
                i += 2  # a two-byte escape
            continue
        i += 1
        if ch == "\n":
            rows.append(row)
            row = []
        elif ch == "\t":
            for _ in range(8 - len(row) % 8):
                row.append(Cell(" ", cur, 1))
        elif ch < " " or ch == "\x7f":
            continue
        else:
            w = char_width(ch)
            if w == 0:
                if row:  # combining mark: belongs to the previous character
                    k = len(row) - 1
                    while k > 0 and row[k].width == 0:
                        k -= 1
                    row[k].text += ch
                continue
            row.append(Cell(ch, cur, w))
            if w == 2:
                row.append(Cell("", cur, 0))
    rows.append(row)
    return rows


# --------------------------------------------------------------------------------------------
# Colours


def colour_rgb(c, default):
    if c is None:
        return default
    if isinstance(c, tuple):
        return c
    if c < 16:
        return PALETTE16[c]
    if c < 232:
        c -= 16
        levels = (0, 95, 135, 175, 215, 255)
        return (levels[c // 36], levels[(c // 6) % 6], levels[c % 6])
    v = 8 + 10 * (c - 232)
    return (v, v, v)


def blend(a, b, t):
    """a moved t of the way toward b."""
    return tuple(round(x + (y - x) * t) for x, y in zip(a, b))


def resolve(style: Style):
    fg = colour_rgb(style.fg, THEME_FG)
    bg = colour_rgb(style.bg, THEME_BG)
    if style.reverse:
        fg, bg = bg, fg
    if style.dim:
        fg = blend(fg, bg, 0.5)
    if style.hidden:
        fg = bg
    return fg, bg


# --------------------------------------------------------------------------------------------
# Box drawing: weights of the left, right, up and down arms. 1 light, 2 heavy, 3 double.

_BOX = {}


def _box(first: int, specs: str) -> None:
    for k, spec in enumerate(specs.split()):
        _BOX[first + k] = tuple(int(d) for d in spec)


# U+2500-U+2503, then U+250C-U+254B, U+2550-U+256C, U+2574-U+257F (LRUD).
_box(0x2500, "1100 2200 0011 0022")
_box(
    0x250C,
    "0101 0201 0102 0202 1001 2001 1002 2002 0110 0210 0120 0220 1010 2010 1020 2020 "
    "0111 0211 0121 0112 0122 0221 0212 0222 1011 2011 1021 1012 1022 2021 2012 2022 "
    "1101 2101 1201 2201 1102 2102 1202 2202 1110 2110 1210 2210 1120 2120 1220 2220 "
    "1111 2111 1211 2211 1121 1112 1122 2121 1221 2112 1212 2221 2212 2122 1222 2222",
)
_box(
    0x2550,
    "3300 0033 0301 0103 0303 3001 1003 3003 0310 0130 0330 3010 1030 3030 0311 0133 0333 "
    "3011 1033 3033 3301 1103 3303 3310 1130 3330 3311 1133 3333",
)
_box(0x2574, "1000 0010 0100 0001 2000 0020 0200 0002 1200 0012 2100 0021")
# Dashed lines: (horizontal?, weight, dashes).
_DASHES = {
    0x2504: (True, 1, 3), 0x2505: (True, 2, 3), 0x2506: (False, 1, 3), 0x2507: (False, 2, 3),
    0x2508: (True, 1, 4), 0x2509: (True, 2, 4), 0x250A: (False, 1, 4), 0x250B: (False, 2, 4),
    0x254C: (True, 1, 2), 0x254D: (True, 2, 2), 0x254E: (False, 1, 2), 0x254F: (False, 2, 2),
}
SS = 4  # supersampling of vector glyphs (anti-aliased arcs, diagonals, dots)


def is_vector(cp: int) -> bool:
    return 0x2500 <= cp <= 0x259F or 0x2800 <= cp <= 0x28FF


class Canvas:
    """A supersampled cell-sized mask with drawing in cell pixel units."""

    def __init__(self, w: int, h: int):
        self.w, self.h = w, h
        self.img = Image.new("L", (w * SS, h * SS), 0)
        self.d = ImageDraw.Draw(self.img)

    def rect(self, x0, y0, x1, y1, value=255):
        if x1 <= x0 or y1 <= y0:
            return
        self.d.rectangle(
            [round(x0 * SS), round(y0 * SS), round(x1 * SS) - 1, round(y1 * SS) - 1], fill=value
        )

    def mask(self):
        return self.img.resize((self.w, self.h), Image.Resampling.BOX)


class Glyphs:
    def __init__(self, font_path: str, size: int, line_gap: int | None, bold_path=None):
        self.size = size
        base, ext = os.path.splitext(font_path)

        def variant(suffixes):
            for suffix in suffixes:
                p = base + suffix + ext
                if os.path.exists(p):
                    return p
            return None

        self.fonts = {(False, False): ImageFont.truetype(font_path, size)}
        bold = bold_path or variant(["-Bold", "Bold", "-bold"])
        italic = variant(["-Oblique", "-Italic", "Italic"])
        bold_italic = variant(["-BoldOblique", "-BoldItalic", "BoldItalic"])
        self.synthetic = set()
        for key, path in (((True, False), bold), ((False, True), italic), ((True, True), bold_italic)):
            if path:
                self.fonts[key] = ImageFont.truetype(path, size)
            else:
                self.fonts[key] = self.fonts[(False, False)]
                self.synthetic.add(key)
        font = self.fonts[(False, False)]
        ascent, descent = font.getmetrics()
        self.cell_w = max(1, round(font.getlength("M")))
        gap = line_gap if line_gap is not None else max(1, round(size * 0.12))
        self.cell_h = ascent + descent + gap
        self.baseline = gap // 2 + ascent
        self.light = max(1, round(size / 15))
        self.heavy = self.light * 2 + 1 if self.light == 1 else self.light * 2
        # Fallbacks for glyphs the main font lacks.
        here = os.path.dirname(font_path)
        candidates = [
            os.path.join(here, "DejaVuSans.ttf"),
            "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
            "/usr/share/fonts/truetype/noto/NotoSansMono-Regular.ttf",
            "/usr/share/fonts/truetype/noto/NotoSansSymbols2-Regular.ttf",
            "/usr/share/fonts/truetype/noto/NotoSansSymbols-Regular.ttf",
            "/usr/share/fonts/truetype/freefont/FreeMono.ttf",
            "/usr/share/fonts/truetype/unifont/unifont.ttf",
        ]
        self.fallbacks = []
        seen = {os.path.realpath(font_path)}
        for p in candidates:
            if os.path.exists(p) and os.path.realpath(p) not in seen:
                seen.add(os.path.realpath(p))
                self.fallbacks.append(ImageFont.truetype(p, size))
        self._notdef = {}
        self.cache = {}
        self.missing = set()

    # -- glyph lookup -----------------------------------------------------------------------

    def _has_glyph(self, font, ch: str) -> bool:
        if ch.isspace():
            return True
        key = id(font)
        if key not in self._notdef:
            m = font.getmask("\U0010fffd")
            self._notdef[key] = (m.size, bytes(m))
        m = font.getmask(ch)
        return (m.size, bytes(m)) != self._notdef[key]

    def mask(self, text: str, width: int, bold: bool, italic: bool):
        """(mask, dx, dy): an L mask to paste at the cell's top-left minus (dx, dy)."""
        key = (text, width, bold, italic)
        hit = self.cache.get(key)
        if hit is None:
            cp = ord(text[0])
            if len(text) == 1 and is_vector(cp):
                hit = (self._vector(cp), 0, 0)
            else:
                hit = self._text(text, width, bold, italic)
            self.cache[key] = hit
        return hit

    # -- text ---------------------------------------------------------------------------------

    def _text(self, text: str, width: int, bold: bool, italic: bool):
        font = self.fonts[(bold, italic)]
        if not self._has_glyph(font, text[0]):
            for fb in self.fallbacks:
                if self._has_glyph(fb, text[0]):
                    font = fb
                    break
            else:
                self.missing.add(text[0])
        w = self.cell_w * width
        mx, my = self.cell_w, self.cell_h // 2  # room for overhangs
        img = Image.new("L", (w + 2 * mx, self.cell_h + 2 * my), 0)
        d = ImageDraw.Draw(img)
        adv = font.getlength(text)
        if adv > w * 1.08:  # too wide for its cells (a fallback font's glyph): squeeze it
            tmp = Image.new("L", (math.ceil(adv) + 2, img.height), 0)
            ImageDraw.Draw(tmp).text((1, my + self.baseline), text, font=font, fill=255, anchor="ls")
            tmp = tmp.resize((w, img.height), Image.Resampling.LANCZOS)
            img.paste(tmp, (mx, 0))
        else:
            x = mx + (w - adv) / 2
            d.text((x, my + self.baseline), text, font=font, fill=255, anchor="ls")
            if (bold, italic) in self.synthetic and bold:
                d.text((x + 1, my + self.baseline), text, font=font, fill=255, anchor="ls")
        if (bold, italic) in self.synthetic and italic:
            shear = 0.2
            img = img.transform(
                img.size,
                Image.Transform.AFFINE,
                (1, shear, -shear * (my + self.baseline), 0, 1, 0),
                Image.Resampling.BILINEAR,
            )
        return img, mx, my

    # -- vector glyphs ------------------------------------------------------------------------

    def _vector(self, cp: int):
        W, H = self.cell_w, self.cell_h
        c = Canvas(W, H)
        if 0x2800 <= cp <= 0x28FF:
            self._braille(c, cp - 0x2800)
        elif cp >= 0x2580:
            self._block(c, cp)
        elif cp in _BOX:
            self._lines(c, *_BOX[cp])
        elif cp in _DASHES:
            self._dashes(c, *_DASHES[cp])
        elif 0x256D <= cp <= 0x2570:
            self._arc(c, cp)
        elif 0x2571 <= cp <= 0x2573:
            t = self.light * SS
            ext = SS  # run a little past the corners so neighbours join
            if cp in (0x2571, 0x2573):
                c.d.line([(W * SS + ext, -ext), (-ext, H * SS + ext)], fill=255, width=t)
            if cp in (0x2572, 0x2573):
                c.d.line([(-ext, -ext), (W * SS + ext, H * SS + ext)], fill=255, width=t)
        return c.mask()

    def _thick(self, weight: int) -> int:
        return {1: self.light, 2: self.heavy}.get(weight, 0)

    def _lines(self, c: Canvas, L: int, R: int, U: int, D: int):
        W, H = self.cell_w, self.cell_h
        cx, cy = W // 2, H // 2
        lw = self.light
        g = max(2, lw * 2)  # offset of each line of a double line from the centre

        def span(centre, t):
            start = centre - t // 2
            return start, start + t

        # Where a single/heavy arm must reach across the perpendicular single/heavy lines.
        tv = max(self._thick(U), self._thick(D))
        th = max(self._thick(L), self._thick(R))
        vx0, vx1 = span(cx, tv) if tv else (cx, cx)
        hy0, hy1 = span(cy, th) if th else (cy, cy)

        # The same rules hold for both axes: an arm runs along its axis toward the low end (L, U)
        # or the high end (R, D) of the cell; `across` are the weights of the perpendicular arms
        # (low, high), `across_span` where their single/heavy lines lie on this axis.
        def arm_extent(low, centre, full, across, along, across_span):
            """Where a single or heavy arm runs along its axis (`along`: the arms of that axis)."""
            if 3 in across:  # stop at the near or the far line of the double perpendicular
                near = across == (3, 3) and not (along[0] and along[1])
                if low:
                    return 0, span(centre - g if near else centre + g, lw)[1]
                return span(centre + g if near else centre - g, lw)[0], full
            return (0, across_span[1]) if low else (across_span[0], full)

        # Single and heavy arms.
        for arm, weight in (("L", L), ("R", R), ("U", U), ("D", D)):
            if weight not in (1, 2):
                continue
            t = self._thick(weight)
            low = arm in ("L", "U")
            if arm in ("L", "R"):
                x0, x1 = arm_extent(low, cx, W, (U, D), (L, R), (vx0, vx1))
                y0, y1 = span(cy, t)
            else:
                x0, x1 = span(cx, t)
                y0, y1 = arm_extent(low, cy, H, (L, R), (U, D), (hy0, hy1))
            c.rect(x0, y0, x1, y1)

        # Double arms: two light lines at centre -/+ g.
        def meet(line_off, high, centre, across, across_span):
            """Where one line of a double arm (offset -g or +g from the centre) meets the centre,
            on its axis: the start of a high arm (R, D) or the end of a low one (L, U)."""
            same = across[0] if line_off < 0 else across[1]  # the perpendicular arm on its side
            other = across[1] if line_off < 0 else across[0]
            if same == 3:  # stop at that arm's line on our side: inner corner
                p = centre + g if high else centre - g
            elif other == 3:  # run to that arm's far line: outer corner
                p = centre - g if high else centre + g
            elif across[0] or across[1]:
                return across_span[0] if high else across_span[1]
            else:
                return centre
            a, b = span(p, lw)
            return a if high else b

        for off in (-g, g):
            y0, y1 = span(cy + off, lw)
            if L == 3:
                c.rect(0, y0, meet(off, False, cx, (U, D), (vx0, vx1)), y1)
            if R == 3:
                c.rect(meet(off, True, cx, (U, D), (vx0, vx1)), y0, W, y1)
            x0, x1 = span(cx + off, lw)
            if U == 3:
                c.rect(x0, 0, x1, meet(off, False, cy, (L, R), (hy0, hy1)))
            if D == 3:
                c.rect(x0, meet(off, True, cy, (L, R), (hy0, hy1)), x1, H)

    def _dashes(self, c: Canvas, horizontal: bool, weight: int, n: int):
        W, H = self.cell_w, self.cell_h
        t = self._thick(weight)
        length = W if horizontal else H
        seg = length / n
        dash = seg * 0.6
        for k in range(n):
            a = k * seg + (seg - dash) / 2
            if horizontal:
                y0 = H // 2 - t // 2
                c.rect(a, y0, a + dash, y0 + t)
            else:
                x0 = W // 2 - t // 2
                c.rect(x0, a, x0 + t, a + dash)

    def _arc(self, c: Canvas, cp: int):
        W, H = self.cell_w, self.cell_h
        t = self.light
        # Centre lines of the straight strokes (matching _lines's light strokes).
        xc = W // 2 - t // 2 + t / 2
        yc = H // 2 - t // 2 + t / 2
        r = min(W - xc, xc, H - yc, yc)
        right = cp in (0x256D, 0x2570)  # ╭ ╰ open to the right
        down = cp in (0x256D, 0x256E)  # ╭ ╮ open downwards
        ccx = xc + r if right else xc - r
        ccy = yc + r if down else yc - r
        start = {0x256D: 180, 0x256E: 270, 0x256F: 0, 0x2570: 90}[cp]
        box = [(ccx - r - t / 2) * SS, (ccy - r - t / 2) * SS, (ccx + r + t / 2) * SS, (ccy + r + t / 2) * SS]
        c.d.arc(box, start, start + 90, fill=255, width=t * SS)
        x0 = W // 2 - t // 2
        y0 = H // 2 - t // 2
        if right:
            c.rect(ccx, y0, W, y0 + t)
        else:
            c.rect(0, y0, ccx, y0 + t)
        if down:
            c.rect(x0, ccy, x0 + t, H)
        else:
            c.rect(x0, 0, x0 + t, ccy)

    def _block(self, c: Canvas, cp: int):
        W, H = self.cell_w, self.cell_h
        hx, hy = round(W / 2), round(H / 2)
        if cp == 0x2580:  # ▀
            c.rect(0, 0, W, hy)
        elif 0x2581 <= cp <= 0x2588:  # ▁ .. █ lower eighths
            k = cp - 0x2580
            c.rect(0, H - round(H * k / 8), W, H)
        elif 0x2589 <= cp <= 0x258F:  # ▉ .. ▏ left eighths
            k = 0x2590 - cp
            c.rect(0, 0, round(W * k / 8), H)
        elif cp == 0x2590:  # ▐
            c.rect(hx, 0, W, H)
        elif 0x2591 <= cp <= 0x2593:  # ░ ▒ ▓
            c.rect(0, 0, W, H, value=(64, 128, 192)[cp - 0x2591])
        elif cp == 0x2594:  # ▔
            c.rect(0, 0, W, round(H / 8))
        elif cp == 0x2595:  # ▕
            c.rect(W - round(W / 8), 0, W, H)
        else:  # quadrants ▖ ▗ ▘ ▙ ▚ ▛ ▜ ▝ ▞ ▟: bits UL UR LL LR
            quads = {
                0x2596: "0010", 0x2597: "0001", 0x2598: "1000", 0x2599: "1011", 0x259A: "1001",
                0x259B: "1110", 0x259C: "1101", 0x259D: "0100", 0x259E: "0110", 0x259F: "0111",
            }[cp]
            boxes = [(0, 0, hx, hy), (hx, 0, W, hy), (0, hy, hx, H), (hx, hy, W, H)]
            for bit, b in zip(quads, boxes):
                if bit == "1":
                    c.rect(*b)

    def _braille(self, c: Canvas, bits: int):
        W, H = self.cell_w, self.cell_h
        dots = [(0, 0), (0, 1), (0, 2), (1, 0), (1, 1), (1, 2), (0, 3), (1, 3)]
        r = min(W / 4, H / 8) * 0.72
        for k, (col, row) in enumerate(dots):
            if bits & (1 << k):
                x = W * (2 * col + 1) / 4
                y = H * (2 * row + 1) / 8
                c.d.ellipse([(x - r) * SS, (y - r) * SS, (x + r) * SS, (y + r) * SS], fill=255)


# --------------------------------------------------------------------------------------------
# Rendering


def grid_cells(rows: list[list[Cell]], cols: int, nrows: int):
    """(row, column, cell) of every cell in the grid that starts a character (the right half of
    a wide character is drawn with its left half)."""
    for r in range(nrows):
        row = rows[r] if r < len(rows) else []
        for col in range(min(cols, len(row))):
            if row[col].width != 0:
                yield r, col, row[col]


def render_grid(rows: list[list[Cell]], cols: int, nrows: int, glyphs: Glyphs, pad: int):
    cw, ch = glyphs.cell_w, glyphs.cell_h
    img = Image.new("RGB", (cols * cw + 2 * pad, nrows * ch + 2 * pad), THEME_BG)
    draw = ImageDraw.Draw(img)
    # Pass 1: backgrounds (so a glyph's overhang is not painted over by its neighbour).
    for r, col, cell in grid_cells(rows, cols, nrows):
        _, bg = resolve(cell.style)
        if bg != THEME_BG:
            x, y = pad + col * cw, pad + r * ch
            span = min(cell.width, cols - col)
            draw.rectangle([x, y, x + span * cw - 1, y + ch - 1], fill=bg)
    # Pass 2: glyphs and decorations.
    line_t = glyphs.light
    for r, col, cell in grid_cells(rows, cols, nrows):
        st = cell.style
        fg, bg = resolve(st)
        x, y = pad + col * cw, pad + r * ch
        if cell.text != " " and fg != bg:
            width = min(cell.width, cols - col)
            mask, dx, dy = glyphs.mask(cell.text, width, st.bold, st.italic)
            img.paste(fg, (x - dx, y - dy, x - dx + mask.width, y - dy + mask.height), mask)
        if st.underline and fg != bg:
            uy = y + glyphs.baseline + max(1, glyphs.size // 10)
            draw.rectangle([x, uy, x + cell.width * cw - 1, uy + line_t - 1], fill=fg)
        if st.strike and fg != bg:
            sy = y + glyphs.baseline - round(glyphs.size * 0.3)
            draw.rectangle([x, sy, x + cell.width * cw - 1, sy + line_t - 1], fill=fg)
    return img


def rounded_mask(size, radius, scale=4):
    w, h = size
    big = Image.new("L", (w * scale, h * scale), 0)
    ImageDraw.Draw(big).rounded_rectangle([0, 0, w * scale - 1, h * scale - 1], radius * scale, fill=255)
    return big.resize((w, h), Image.Resampling.LANCZOS)


def frame(grid: Image.Image, glyphs: Glyphs, title: str):
    bar = round(glyphs.cell_h * 1.7)
    radius = max(6, round(glyphs.cell_w * 1.1))
    margin = max(16, round(glyphs.cell_h * 1.8))
    ww, wh = grid.width, grid.height + bar
    window = Image.new("RGB", (ww, wh), THEME_BG)
    wd = ImageDraw.Draw(window)
    wd.rectangle([0, 0, ww - 1, bar - 1], fill=TITLE_BAR_BG)
    wd.rectangle([0, bar - 1, ww - 1, bar - 1], fill=TITLE_BAR_RULE)
    window.paste(grid, (0, bar))
    # Traffic-light dots, anti-aliased by supersampling.
    dot_r = bar * 0.2
    s = 4
    for k, colour in enumerate(MAC_DOTS):
        m = Image.new("L", (ww * s, bar * s), 0)
        cx = (bar * 0.65 + k * dot_r * 3.3) * s
        cy = bar / 2 * s
        ImageDraw.Draw(m).ellipse([cx - dot_r * s, cy - dot_r * s, cx + dot_r * s, cy + dot_r * s], fill=255)
        m = m.resize((ww, bar), Image.Resampling.LANCZOS)
        window.paste(colour, (0, 0, ww, bar), m)
    if title:
        font = glyphs.fonts[(False, False)]
        wd.text((ww / 2, bar / 2), title, font=font, fill=TITLE_FG, anchor="mm")
    # Compose: shadow, window with rounded corners, a hairline outline.
    out = Image.new("RGBA", (ww + 2 * margin, wh + 2 * margin), (0, 0, 0, 0))
    shape = rounded_mask((ww, wh), radius)
    shadow = Image.new("RGBA", out.size, (0, 0, 0, 0))
    shadow_alpha = Image.new("L", out.size, 0)
    shadow_alpha.paste(shape.point(lambda v: v * 110 // 255), (margin, margin + margin // 4))
    shadow_alpha = shadow_alpha.filter(ImageFilter.GaussianBlur(margin / 2.5))
    shadow.putalpha(shadow_alpha)
    out = Image.alpha_composite(out, shadow)
    win = window.convert("RGBA")
    win.putalpha(shape)
    out.alpha_composite(win, (margin, margin))
    inner = Image.new("L", (ww, wh), 0)
    inner.paste(rounded_mask((ww - 2, wh - 2), max(1, radius - 1)), (1, 1))
    ring = ImageChops.subtract(shape, inner)
    outline = Image.new("RGBA", (ww, wh), WINDOW_OUTLINE)
    outline.putalpha(ring.point(lambda v: v * 160 // 255))
    out.alpha_composite(outline, (margin, margin))
    return out


# --------------------------------------------------------------------------------------------
# Command line


def tmux_capture(session: str):
    cmd = ["tmux", "capture-pane", "-e", "-p", "-N", "-t", session]
    try:
        data = subprocess.run(cmd, check=True, capture_output=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        err = getattr(e, "stderr", b"") or b""
        sys.exit(f"screenshot.py: {' '.join(cmd)} failed: {err.decode(errors='replace').strip() or e}")
    size = subprocess.run(
        ["tmux", "display-message", "-p", "-t", session, "#{pane_width} #{pane_height}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    dims = (int(size[0]), int(size[1])) if len(size) == 2 and all(s.isdigit() for s in size) else None
    return data.decode("utf-8", errors="replace"), dims


def main(argv=None):
    ap = argparse.ArgumentParser(
        description="Render tmux capture-pane -e output (ANSI) to a PNG.",
        usage="%(prog)s (CAPTURE.ansi | --tmux SESSION) OUT.png [--cols N --rows N] "
        "[--font TTF] [--size PX] [--title TEXT] [--no-frame]",
    )
    ap.add_argument("paths", nargs="+", metavar="CAPTURE.ansi OUT.png")
    ap.add_argument("--tmux", metavar="SESSION", help="capture this tmux session's pane directly")
    ap.add_argument("--cols", type=int, help="grid width (default: the pane's, or the widest line)")
    ap.add_argument("--rows", type=int, help="grid height (default: the pane's, or the line count)")
    ap.add_argument("--font", default=DEFAULT_FONT, help=f"monospace TTF (default {DEFAULT_FONT})")
    ap.add_argument("--bold-font", help="bold TTF (default: the font's -Bold file beside it)")
    ap.add_argument("--size", type=int, default=15, help="font size in pixels (default 15)")
    ap.add_argument("--line-gap", type=int, help="extra pixels between rows (default ~12%% of size)")
    ap.add_argument("--padding", type=int, help="pixels around the grid (default ~1 cell)")
    ap.add_argument("--title", help="title bar text (default: the session or file name)")
    ap.add_argument("--frame", dest="frame", action="store_true", default=True,
                    help="rounded window with a title bar and shadow (default)")
    ap.add_argument("--no-frame", dest="frame", action="store_false", help="just the padded grid")
    args = ap.parse_args(argv)

    dims = None
    if args.tmux:
        if len(args.paths) != 1:
            ap.error("with --tmux give only OUT.png")
        out_path = args.paths[0]
        data, dims = tmux_capture(args.tmux)
        default_title = args.tmux
    else:
        if len(args.paths) != 2:
            ap.error("give CAPTURE.ansi (or -) and OUT.png, or --tmux SESSION OUT.png")
        src, out_path = args.paths
        if src == "-":
            data = sys.stdin.buffer.read().decode("utf-8", errors="replace")
            default_title = ""
        else:
            with open(src, "rb") as f:
                data = f.read().decode("utf-8", errors="replace")
            default_title = os.path.splitext(os.path.basename(src))[0]
    if not os.path.exists(args.font):
        sys.exit(f"screenshot.py: font not found: {args.font} (Debian: apt-get install fonts-dejavu-core)")

    rows = parse_capture(data)
    cols = args.cols or (dims[0] if dims else max((len(r) for r in rows), default=1))
    nrows = args.rows or (dims[1] if dims else len(rows))
    cols, nrows = max(1, cols), max(1, nrows)

    glyphs = Glyphs(args.font, args.size, args.line_gap, args.bold_font)
    pad = args.padding if args.padding is not None else round(glyphs.cell_w * 1.3)
    img = render_grid(rows, cols, nrows, glyphs, pad)
    if args.frame:
        img = frame(img, glyphs, args.title if args.title is not None else default_title)
    img.save(out_path, optimize=True)
    if glyphs.missing:
        print("screenshot.py: no font has: " + " ".join(sorted(glyphs.missing)), file=sys.stderr)
    print(f"{out_path}: {img.width}x{img.height} ({cols}x{nrows} cells of {glyphs.cell_w}x{glyphs.cell_h} px)")


if __name__ == "__main__":
    main()
