//! Drawing: plain functions from the state to the frame, one file per screen region. The
//! layout (with its diagram) is in [`layout`]; every area drawn here comes from it, so mouse
//! hit-testing in `update` agrees with what is on screen.
//!
//! Drawing never changes the [`App`] and never sorts or filters: the rooms table's order is
//! precomputed by `update`, and only the rows in view are built.

mod connections;
mod events;
mod footer;
pub(crate) mod format;
mod header;
mod help;
mod history;
mod media_summary;
mod node_detail;
mod node_figures;
mod nodes;
mod overview;
mod popups;
mod room_detail;
mod rooms;
mod sparkline;
mod staleness;
mod tabs;

use std::ops::Range;

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::app::App;
use super::cursor::Cursor;
use super::layout;
use super::popup::Popup;
use super::screen::Screen;
use super::theme::Theme;

/// Draws the whole dashboard.
pub fn draw(frame: &mut Frame, app: &App) {
    let theme = Theme::new(app.monochrome);
    let area = frame.area();
    if layout::too_small(area) {
        too_small(frame, area, theme);
        return;
    }
    let areas = layout::areas(area, app.screen);
    header::render(frame, areas.header, app, theme);
    tabs::render(frame, areas.tabs, app, theme);
    match app.screen {
        Screen::Overview => overview::render(frame, areas.main, app, theme),
        Screen::Connections => connections::render(frame, areas.main, app, theme),
        Screen::Rooms => rooms::render(frame, areas.main, app, theme),
        Screen::RoomDetail => room_detail::render(frame, areas.main, app, theme),
        Screen::Events => events::render(frame, areas.main, app, theme),
        Screen::History => history::render(frame, areas.main, app, theme),
        Screen::Nodes => nodes::render(frame, areas.main, app, theme),
        Screen::NodeDetail => node_detail::render(frame, areas.main, app, theme),
    }
    if let Some(log) = areas.log {
        events::render_pane(frame, log, app, theme);
    }
    footer::render(frame, areas.footer, app, theme);
    match &app.popup {
        Some(Popup::Help { .. }) => help::render(frame, area, app, theme),
        Some(_) => popups::render(frame, area, app, theme),
        None => {}
    }
}

fn too_small(frame: &mut Frame, area: Rect, theme: Theme) {
    let text = format!(
        "terminal too small: {}x{}, lktop needs at least {}x{}",
        area.width,
        area.height,
        layout::MIN_WIDTH,
        layout::MIN_HEIGHT
    );
    let lines = format::wrap(&text, usize::from(area.width));
    let height = u16::try_from(lines.len())
        .unwrap_or(u16::MAX)
        .min(area.height);
    let middle = Rect {
        y: area.y + (area.height - height) / 2,
        height,
        ..area
    };
    let text: Vec<Line> = lines.into_iter().map(Line::from).collect();
    frame.render_widget(Paragraph::new(text).centered().style(theme.warn()), middle);
}

/// A bordered block `area_width` wide with a title in the title style, cut with `…` when it
/// is wider than the top border.
fn block<'a>(title: impl Into<Line<'a>>, area_width: u16, theme: Theme) -> Block<'a> {
    let title: Line = title.into();
    let room = usize::from(area_width.saturating_sub(4));
    let title = if title.width() > room {
        Line::from(clip(title.spans, room))
    } else {
        title
    };
    Block::bordered().title(title.style(theme.title()))
}

/// A text filter in a table's title: what is typed, with a cursor, or the filter in force.
fn filter_badge(filter: &super::text_filter::TextFilter, theme: Theme) -> Option<Span<'static>> {
    if filter.is_editing() {
        Some(Span::styled(format!("/ {}█ ", filter.text), theme.title()))
    } else if filter.is_empty() {
        None
    } else {
        Some(Span::styled(
            format!("· filter: {} ", filter.text),
            theme.warn(),
        ))
    }
}

/// The rows of a list of `len` rows in a window `height` rows tall, and the selected row.
fn window(cursor: Cursor, height: u16, len: usize) -> (Range<usize>, usize) {
    let cursor = cursor.scrolled(usize::from(height));
    let start = cursor.offset.min(len);
    let end = start.saturating_add(usize::from(height)).min(len);
    (start..end, cursor.selected)
}

/// A message in place of a table's rows (empty list, data not there yet).
fn message(frame: &mut Frame, body: Rect, text: &str, style: Style) {
    if body.height == 0 || body.width == 0 {
        return;
    }
    let paragraph = Paragraph::new(Line::from(Span::styled(text.to_owned(), style)))
        .centered()
        .wrap(Wrap { trim: true });
    let middle = Rect {
        y: body.y + body.height.saturating_sub(1) / 2,
        height: body.height - body.height.saturating_sub(1) / 2,
        ..body
    };
    frame.render_widget(paragraph, middle);
}

/// `spans` cut to `width` cells; the span where the cut falls ends in `…`.
fn clip(spans: Vec<Span<'_>>, width: usize) -> Vec<Span<'_>> {
    let mut out = Vec::with_capacity(spans.len());
    let mut left = width;
    for span in spans {
        let w = span.width();
        if w <= left {
            left -= w;
            out.push(span);
            continue;
        }
        let cut = format::truncate(&span.content, left).into_owned();
        out.push(Span::styled(cut, span.style));
        break;
    }
    out
}

/// Pieces of a line joined by ` · `, as many as fit in `width` (the first always, clipped);
/// a piece that does not fit is left out whole rather than cut.
fn pieces(pieces: Vec<Vec<Span<'static>>>, width: usize) -> Vec<Span<'static>> {
    let mut out: Vec<Span<'static>> = Vec::new();
    let mut used = 0;
    for (i, piece) in pieces.into_iter().enumerate() {
        let w: usize = piece.iter().map(Span::width).sum();
        if i == 0 {
            out = clip(piece, width);
            used = w.min(width);
            continue;
        }
        if used + 3 + w <= width {
            out.push(Span::raw(" · "));
            out.extend(piece);
            used += 3 + w;
        }
    }
    out
}

/// A table column: its header, width, and how early it is dropped when the table is too
/// narrow (0: never; the highest goes first). A `fill` column takes the width left over (up
/// to `max`) and `width` is its minimum. Before any column is dropped, every column with a
/// short form switches to it.
#[derive(Debug, Clone, Copy)]
struct Column {
    header: &'static str,
    width: u16,
    short: Option<(&'static str, u16)>,
    drop: u8,
    fill: bool,
    max: u16,
}

impl Column {
    const fn fixed(header: &'static str, width: u16, drop: u8) -> Self {
        Self {
            header,
            width,
            short: None,
            drop,
            fill: false,
            max: width,
        }
    }

    const fn fill(header: &'static str, min: u16, max: u16, drop: u8) -> Self {
        Self {
            header,
            width: min,
            short: None,
            drop,
            fill: true,
            max,
        }
    }

    const fn or_short(mut self, header: &'static str, width: u16) -> Self {
        self.short = Some((header, width));
        self
    }
}

/// A column as drawn: which one, its header and its width.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Fitted {
    index: usize,
    header: &'static str,
    width: u16,
}

/// The columns that fit in `available` cells (with one cell between columns); fill columns
/// share what is left.
fn fit(columns: &[Column], available: u16) -> Vec<Fitted> {
    let full = |c: &Column| (c.header, c.width);
    let short = |c: &Column| c.short.unwrap_or((c.header, c.width));
    let total = |kept: &[usize], form: &dyn Fn(&Column) -> (&'static str, u16)| -> u32 {
        let widths: u32 = kept.iter().map(|&i| u32::from(form(&columns[i]).1)).sum();
        widths + u32::try_from(kept.len().saturating_sub(1)).unwrap_or(u32::MAX)
    };
    let mut kept: Vec<usize> = (0..columns.len()).collect();
    let form: &dyn Fn(&Column) -> (&'static str, u16) =
        if total(&kept, &full) <= u32::from(available) {
            &full
        } else {
            &short
        };
    while total(&kept, form) > u32::from(available) {
        let Some(victim) = kept
            .iter()
            .enumerate()
            .filter(|(_, i)| columns[**i].drop > 0)
            .max_by_key(|(position, i)| (columns[**i].drop, *position))
            .map(|(position, _)| position)
        else {
            break;
        };
        kept.remove(victim);
    }
    let mut left = u32::from(available).saturating_sub(total(&kept, form));
    let mut fills = kept.iter().filter(|&&i| columns[i].fill).count();
    kept.iter()
        .map(|&i| {
            let column = &columns[i];
            let (header, base) = form(column);
            let mut width = u32::from(base);
            if column.fill && fills > 0 {
                // An even share of what is left, within the column's maximum.
                let share = (left / u32::try_from(fills).unwrap_or(1))
                    .min(u32::from(column.max.saturating_sub(base)));
                fills -= 1;
                left -= share;
                width += share;
            }
            Fitted {
                index: i,
                header,
                width: u16::try_from(width).unwrap_or(u16::MAX),
            }
        })
        .collect()
}

/// The constraints of fitted columns.
fn constraints(fitted: &[Fitted]) -> Vec<Constraint> {
    fitted.iter().map(|f| Constraint::Length(f.width)).collect()
}

/// The table every screen draws: the fitted columns, one header row, the block around it.
fn table<'a>(
    rows: Vec<ratatui::widgets::Row<'a>>,
    fitted: &[Fitted],
    block: ratatui::widgets::Block<'a>,
    theme: Theme,
) -> ratatui::widgets::Table<'a> {
    ratatui::widgets::Table::new(rows, constraints(fitted))
        .header(header_row(fitted, theme))
        .block(block)
}

/// `row`, marked when it is the selected one.
fn highlight(
    row: ratatui::widgets::Row<'_>,
    selected: bool,
    theme: Theme,
) -> ratatui::widgets::Row<'_> {
    if selected {
        row.style(theme.selected())
    } else {
        row
    }
}

/// The header row of fitted columns.
fn header_row<'a>(fitted: &[Fitted], theme: Theme) -> ratatui::widgets::Row<'a> {
    ratatui::widgets::Row::new(
        fitted
            .iter()
            .map(|f| ratatui::widgets::Cell::from(f.header)),
    )
    .style(theme.header_row())
}

/// A key as shown in hints: the first key bound to `action`, if any.
fn key_of(app: &App, action: crate::tui::keys::KeyAction) -> Option<String> {
    app.keymap.keys(action).first().map(ToString::to_string)
}

/// The centred rectangle of `width` x `height` inside `area` (clipped to it).
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_drop_by_rank_and_fill_the_rest() {
        let columns = [
            Column::fill("a", 5, u16::MAX, 0),
            Column::fixed("b", 10, 2),
            Column::fixed("c", 10, 1),
        ];
        let widths = |available| -> Vec<(usize, u16)> {
            fit(&columns, available)
                .iter()
                .map(|f| (f.index, f.width))
                .collect()
        };
        assert_eq!(widths(40), vec![(0, 18), (1, 10), (2, 10)]);
        assert_eq!(widths(20), vec![(0, 9), (2, 10)]);
        assert_eq!(widths(3), vec![(0, 5)]);
        let capped = [
            Column::fill("a", 5, 8, 0),
            Column::fixed("b", 4, 1).or_short("B", 1),
        ];
        let fitted = fit(&capped, 30);
        assert_eq!((fitted[0].width, fitted[1].header), (8, "b"));
        let fitted = fit(&capped, 7);
        assert_eq!(
            (fitted[0].width, fitted[1].header, fitted[1].width),
            (5, "B", 1)
        );
    }
}
