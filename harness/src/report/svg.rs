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
    svg.push_str(&legend(
        series,
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

fn legend_height(series: &[Series]) -> f64 {
    if series.len() > 1 {
        24.0
    } else {
        0.0
    }
}

/// A line of coloured squares naming the series, when there is more than one.
fn legend(series: &[Series], y: f64) -> String {
    if series.len() < 2 {
        return String::new();
    }
    let mut x = LABEL_WIDTH;
    let mut out = String::new();
    for s in series {
        out.push_str(&format!(
            "<rect x=\"{x:.1}\" y=\"{:.1}\" width=\"12\" height=\"12\" fill=\"{}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\">{}</text>\n",
            y + 4.0,
            s.colour,
            x + 16.0,
            y + 14.0,
            escape(&s.name)
        ));
        x += 24.0 + 8.0 * s.name.len() as f64;
    }
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
