//! Inline SVG charts for the HTML report: plain markup, no script, no external file, so the page
//! opens offline and survives being attached to a review.

/// One bar: its label, its value, and the text shown beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: f64,
    pub shown: String,
}

/// Several bar groups side by side, e.g. the engine's and the oracle's seconds per phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    /// CSS colour of the series' bars.
    pub colour: &'static str,
    pub bars: Vec<Bar>,
}

const LABEL_WIDTH: f64 = 230.0;
const BAR_AREA: f64 = 380.0;
const VALUE_WIDTH: f64 = 110.0;
const BAR_HEIGHT: f64 = 16.0;
const GAP: f64 = 6.0;

/// A horizontal bar chart: one row per bar of every series (series interleaved per label, see
/// [`rows`]), bars scaled to the largest value. Negative or non-finite values draw as empty bars.
pub fn bar_chart(title: &str, series: &[Series]) -> String {
    let max = series
        .iter()
        .flat_map(|s| s.bars.iter().map(|b| b.value))
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let rows = rows(series);
    let height = 28.0 + rows.len() as f64 * (BAR_HEIGHT + GAP) + legend_height(series);
    let width = LABEL_WIDTH + BAR_AREA + VALUE_WIDTH;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-label=\"{}\">\n<text x=\"0\" y=\"16\" class=\"title\">{}</text>\n",
        escape(title),
        escape(title)
    );
    for (i, (s, bar)) in rows.iter().enumerate() {
        let y = 28.0 + i as f64 * (BAR_HEIGHT + GAP);
        // A label names its group once, on the group's first row.
        let first_of_label = i == 0 || rows[i - 1].1.label != bar.label;
        let label = if first_of_label {
            bar.label.as_str()
        } else {
            ""
        };
        let length = if max > 0.0 && bar.value.is_finite() && bar.value > 0.0 {
            (bar.value / max * BAR_AREA).max(1.0)
        } else {
            0.0
        };
        svg.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\
             <rect x=\"{LABEL_WIDTH}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"{BAR_HEIGHT}\" \
             fill=\"{}\"><title>{}: {}</title></rect>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            LABEL_WIDTH - 8.0,
            y + BAR_HEIGHT - 4.0,
            escape(label),
            s.colour,
            escape(&s.name),
            escape(&bar.shown),
            LABEL_WIDTH + length + 6.0,
            y + BAR_HEIGHT - 4.0,
            escape(&bar.shown),
        ));
    }
    let names: Vec<(&str, &str)> = series.iter().map(|s| (s.name.as_str(), s.colour)).collect();
    svg.push_str(&legend(
        &names,
        LABEL_WIDTH,
        28.0 + rows.len() as f64 * (BAR_HEIGHT + GAP),
    ));
    svg.push_str("</svg>\n");
    svg
}

/// The chart's rows: labels in the order they first appear in any series, and under each label
/// the bars of every series that has it, in series order. So the engine's and the oracle's
/// "end to end" sit next to each other, and a label only one series has gets one row.
fn rows(series: &[Series]) -> Vec<(&Series, &Bar)> {
    let mut labels: Vec<&str> = Vec::new();
    for bar in series.iter().flat_map(|s| &s.bars) {
        if !labels.contains(&bar.label.as_str()) {
            labels.push(&bar.label);
        }
    }
    labels
        .into_iter()
        .flat_map(|label| {
            series.iter().flat_map(move |s| {
                s.bars
                    .iter()
                    .filter(move |b| b.label == label)
                    .map(move |b| (s, b))
            })
        })
        .collect()
}

fn legend_height<T>(series: &[T]) -> f64 {
    if series.len() > 1 {
        24.0
    } else {
        0.0
    }
}

/// A line of coloured squares naming the series (name, colour), from `x`, when there is more
/// than one.
fn legend(series: &[(&str, &str)], x: f64, y: f64) -> String {
    if series.len() < 2 {
        return String::new();
    }
    let mut x = x;
    let mut out = String::new();
    for (name, colour) in series {
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{colour}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            y + 4.0,
            x + 16.0,
            y + 14.0,
            escape(name)
        ));
        x += 24.0 + 8.0 * name.chars().count() as f64;
    }
    out
}

/// One line of a trend chart: a value per position of the x axis, `None` where it has none.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub name: String,
    /// CSS colour of the line and its dots.
    pub colour: &'static str,
    pub points: Vec<Option<f64>>,
}

const TREND_LEFT: f64 = 64.0;
const TREND_PLOT_WIDTH: f64 = 440.0;
const TREND_TOP: f64 = 30.0;
const TREND_PLOT_HEIGHT: f64 = 150.0;
/// Room under the plot for the slanted x labels.
const TREND_X_LABELS: f64 = 62.0;
/// At most this many x labels are written; the others are left out evenly (the last is always
/// written).
const TREND_MAX_X_LABELS: usize = 10;

/// A trend chart: `x_labels` along the x axis (oldest first, one position each), each line a
/// polyline through its points, broken where a point is missing or not finite, a dot at every
/// point with `line x: shown(value)` as its tooltip. The y axis runs from 0 to the largest value,
/// labelled at 0, half and top with `shown`. The last position (tonight) is shaded.
pub fn line_chart(
    title: &str,
    x_labels: &[String],
    lines: &[Line],
    shown: fn(f64) -> String,
) -> String {
    let max = lines
        .iter()
        .flat_map(|l| l.points.iter().flatten())
        .filter(|v| v.is_finite())
        .fold(0.0_f64, |a, &b| a.max(b));
    let n = x_labels.len();
    let x = |i: usize| TREND_LEFT + TREND_PLOT_WIDTH * (i as f64 + 0.5) / n.max(1) as f64;
    let y = |v: f64| {
        let share = if max > 0.0 { v / max } else { 0.0 };
        TREND_TOP + TREND_PLOT_HEIGHT * (1.0 - share)
    };
    let bottom = TREND_TOP + TREND_PLOT_HEIGHT;
    let height = bottom + TREND_X_LABELS + legend_height(lines);
    let width = TREND_LEFT + TREND_PLOT_WIDTH + 16.0;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" \
         role=\"img\" aria-label=\"{}\">\n<text x=\"0\" y=\"16\" class=\"title\">{}</text>\n",
        escape(title),
        escape(title)
    );
    if n > 0 {
        let band = TREND_PLOT_WIDTH / n as f64;
        svg.push_str(&format!(
            "<rect x=\"{:.1}\" y=\"{TREND_TOP}\" width=\"{band:.1}\" height=\"{TREND_PLOT_HEIGHT}\" \
             fill=\"#edf2f7\"><title>tonight</title></rect>\n",
            x(n - 1) - band / 2.0
        ));
    }
    for share in [0.0, 0.5, 1.0] {
        let at = TREND_TOP + TREND_PLOT_HEIGHT * (1.0 - share);
        svg.push_str(&format!(
            "<line x1=\"{TREND_LEFT}\" y1=\"{at:.1}\" x2=\"{:.1}\" y2=\"{at:.1}\" stroke=\"#e2e8f0\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            TREND_LEFT + TREND_PLOT_WIDTH,
            TREND_LEFT - 6.0,
            at + 4.0,
            escape(&shown(max * share))
        ));
    }
    let every = n.div_ceil(TREND_MAX_X_LABELS).max(1);
    for (i, label) in x_labels.iter().enumerate() {
        if i % every == 0 || i + 1 == n {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" \
                 transform=\"rotate(-35 {:.1} {:.1})\">{}</text>\n",
                x(i),
                bottom + 14.0,
                x(i),
                bottom + 14.0,
                escape(label)
            ));
        }
    }
    for line in lines {
        svg.push_str(&polylines(line, &x, &y));
        for (i, v) in line.points.iter().enumerate() {
            if let Some(v) = v.filter(|v| v.is_finite()) {
                svg.push_str(&format!(
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3.5\" fill=\"{}\"><title>{} {}: {}</title></circle>\n",
                    x(i),
                    y(v),
                    line.colour,
                    escape(&line.name),
                    escape(x_labels.get(i).map_or("", String::as_str)),
                    escape(&shown(v))
                ));
            }
        }
    }
    let names: Vec<(&str, &str)> = lines.iter().map(|l| (l.name.as_str(), l.colour)).collect();
    svg.push_str(&legend(&names, TREND_LEFT, bottom + TREND_X_LABELS - 4.0));
    svg.push_str("</svg>\n");
    svg
}

/// The line's runs of consecutive finite points, one `<polyline>` each (a run of one point is
/// only its dot).
fn polylines(line: &Line, x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64) -> String {
    let mut out = String::new();
    let mut run: Vec<String> = Vec::new();
    let mut flush = |run: &mut Vec<String>| {
        if run.len() > 1 {
            out.push_str(&format!(
                "<polyline points=\"{}\" fill=\"none\" stroke=\"{}\" stroke-width=\"2\"/>\n",
                run.join(" "),
                line.colour
            ));
        }
        run.clear();
    };
    for (i, v) in line.points.iter().enumerate() {
        match v.filter(|v| v.is_finite()) {
            Some(v) => run.push(format!("{:.1},{:.1}", x(i), y(v))),
            None => flush(&mut run),
        }
    }
    flush(&mut run);
    out
}

/// Escapes text for SVG/HTML content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(label: &str, value: f64) -> Bar {
        Bar {
            label: label.to_string(),
            value,
            shown: format!("{value}"),
        }
    }

    fn widths(svg: &str) -> Vec<f64> {
        svg.match_indices("<rect x=\"230\"")
            .map(|(at, _)| {
                let rest = &svg[at..];
                let start = rest.find("width=\"").unwrap() + 7;
                let end = start + rest[start..].find('"').unwrap();
                rest[start..end].parse().unwrap()
            })
            .collect()
    }

    #[test]
    fn bars_scale_to_the_largest_value() {
        let series = Series {
            name: "engine".into(),
            colour: "#36c",
            bars: vec![bar("read", 2.0), bar("write", 4.0), bar("none", 0.0)],
        };
        let svg = bar_chart("seconds", &[series]);
        // 380 px for the largest (4.0), so 2.0 gets 190 px and 0.0 none.
        assert_eq!(widths(&svg), vec![190.0, 380.0, 0.0]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
    }

    #[test]
    fn series_interleave_per_label_and_a_group_is_labelled_once() {
        let engine = Series {
            name: "engine".into(),
            colour: "#36c",
            bars: vec![bar("read", 1.0), bar("end to end", 3.0)],
        };
        let oracle = Series {
            name: "oracle".into(),
            colour: "#c63",
            bars: vec![bar("end to end", 4.0)],
        };
        let svg = bar_chart("seconds", &[engine, oracle]);
        let fills: Vec<&str> = svg
            .match_indices("fill=\"")
            .map(|(at, _)| &svg[at + 6..at + 10])
            .collect();
        // Three bars (read, engine end to end, oracle end to end), then the two legend squares.
        assert_eq!(fills, ["#36c", "#36c", "#c63", "#36c", "#c63"]);
        assert_eq!(widths(&svg), vec![95.0, 285.0, 380.0]);
        assert_eq!(svg.matches(">end to end</text>").count(), 1);
    }

    fn line(name: &str, points: &[Option<f64>]) -> Line {
        Line {
            name: name.into(),
            colour: "#36c",
            points: points.to_vec(),
        }
    }

    fn dates(n: usize) -> Vec<String> {
        (1..=n).map(|d| format!("2026-11-{d:02}")).collect()
    }

    #[test]
    fn a_trend_scales_to_the_largest_value_and_breaks_where_a_night_is_missing() {
        let svg = line_chart(
            "engine / yardstick",
            &dates(4),
            &[line("typical", &[Some(2.0), Some(4.0), None, Some(1.0)])],
            |v| format!("{v}"),
        );
        // Four positions of 110 px from x = 64: centres 119, 229, 339, 449. The plot runs from
        // y = 30 (4.0, the largest) to 180 (0): 2.0 at 105, 1.0 at 142.5.
        assert_eq!(
            svg.matches("<polyline").count(),
            1,
            "the missing night breaks the line and a lone point is only a dot: {svg}"
        );
        assert!(svg.contains("points=\"119.0,105.0 229.0,30.0\""), "{svg}");
        assert_eq!(svg.matches("<circle").count(), 3);
        assert!(svg.contains("cx=\"449.0\" cy=\"142.5\""));
        // Tonight's band is the last position.
        assert!(svg.contains("<rect x=\"394.0\" y=\"30\" width=\"110.0\""));
        // The y axis is labelled at 0, 2 and 4.
        for label in [">0</text>", ">2</text>", ">4</text>"] {
            assert!(svg.contains(label), "{label}");
        }
        assert!(svg.contains("<title>typical 2026-11-02: 4</title>"));
    }

    #[test]
    fn a_long_trend_labels_at_most_ten_nights_and_always_the_last() {
        let svg = line_chart("t", &dates(25), &[line("a", &[Some(1.0); 25])], |v| {
            format!("{v}")
        });
        let labels = svg.matches("rotate(-35").count();
        // Every third of 25 (0, 3, …, 24): 9 labels, 24 being the last.
        assert_eq!(labels, 9);
        assert!(svg.contains(">2026-11-25</text>"));
        // One line: no legend.
        assert!(!svg.contains("width=\"12\""));
    }

    #[test]
    fn a_trend_without_any_value_draws_an_empty_plot() {
        let svg = line_chart(
            "t",
            &dates(2),
            &[line("a", &[None, Some(f64::NAN)]), line("b", &[None, None])],
            |v| format!("{v}"),
        );
        assert_eq!(svg.matches("<circle").count(), 0);
        assert_eq!(svg.matches("<polyline").count(), 0);
        // Two lines: a legend.
        assert_eq!(svg.matches("width=\"12\"").count(), 2);
    }

    #[test]
    fn labels_are_escaped() {
        let series = Series {
            name: "a<b".into(),
            colour: "#000",
            bars: vec![bar("x & \"y\"", 1.0)],
        };
        let svg = bar_chart("t<", &[series]);
        assert!(svg.contains("x &amp; &quot;y&quot;"));
        assert!(svg.contains("t&lt;"));
        assert!(!svg.contains("x & \"y\""));
    }
}
