// Charts for any page: ECharts (npm, served by us under /ui/vendor/echarts), drawn on a
// canvas in the page's own font and dark colours. A chart is made once and then only fed
// new data (setOption merges it: its data only), never rebuilt; it follows its element's size.
//
//   const chart = barChart(element, { series: [{ name: "今日", colour: "#4fc3f7" }] });
//   chart.update(["东城", "西城"], [[3, 5]]);

import * as echarts from "../vendor/echarts/echarts.esm.min.js";
import { yieldToMain } from "./dom.js";

const FONT = "Noto Sans SC Variable";
const TEXT = "#e5e9f0";
const GRID = "#33405e";

function fontPx(element) {
  return parseFloat(getComputedStyle(element).fontSize) || 16;
}

function baseOption(element, series, horizontal) {
  const size = fontPx(element);
  const text = { color: TEXT, fontFamily: FONT, fontSize: size };
  // every district named; hours as many as fit
  const categoryAxis = { type: "category", data: [], axisLabel: { ...text, interval: horizontal ? 0 : "auto" },
                         axisLine: { lineStyle: { color: GRID } }, axisTick: { show: false } };
  const valueAxis = { type: "value", minInterval: 1, axisLabel: text,
                      splitLine: { lineStyle: { color: GRID } } };
  return {
    animation: false,  // a wall redraws often: no tweening work on the main thread
    textStyle: text,
    grid: { left: size * 0.5, right: size, top: size * 2.2, bottom: size * 0.3,
            containLabel: true },
    legend: { show: series.length > 1, top: 0, right: 0, textStyle: text,
              itemWidth: size, itemHeight: size * 0.6 },
    xAxis: horizontal ? valueAxis : categoryAxis,
    yAxis: horizontal ? { ...categoryAxis, inverse: true } : valueAxis,
    series: series.map(s => ({ name: s.name, type: s.type || "bar", data: [],
                               itemStyle: { color: s.colour }, lineStyle: { color: s.colour },
                               showSymbol: false, barMaxWidth: size * 1.2,
                               label: { show: Boolean(s.labels), position: horizontal ? "right" : "top",
                                        ...text } })),
  };
}

// A bar (or line, per series `type`) chart in `element`; horizontal: categories down the side.
export function barChart(element, { series, horizontal = false }) {
  const chart = echarts.init(element, null, { renderer: "canvas" });
  element.setAttribute("role", "img");
  let categories = [], values = series.map(() => []), last = null, disposed = false, pending = null;
  const text = () => [...categories, ...series.map(s => s.name), "0123456789"].join("");
  // Draw (once for all the calls of one turn) when the font files of its text are loaded: a
  // canvas draws only with files already loaded, and would keep a fallback font's glyphs.
  let laidOut = false;  // the whole option is given once, and again after a resize
  const draw = () => {
    pending ??= (async () => {
      let loaded;
      do {
        loaded = text();
        await document.fonts.load(`16px "${FONT}"`, loaded).catch(() => {});
      } while (loaded !== text());
      await yieldToMain();  // each chart drawn in a task of its own
      pending = null;
      if (disposed) return;
      const option = laidOut ? { series: series.map(() => ({})) } : baseOption(element, series, horizontal);
      option[horizontal ? "yAxis" : "xAxis"] = { ...option[horizontal ? "yAxis" : "xAxis"], data: categories };
      option.series.forEach((s, i) => { s.data = values[i] || []; });
      chart.setOption(option);
      laidOut = true;
      // what the canvas shows, as text: read by screen readers and the browser tests
      element.setAttribute("aria-label", series.map((s, i) => `${s.name}：${categories
        .map((category, j) => `${category} ${values[i]?.[j] ?? 0}`).join("，")}`).join("；"));
    })();
  };
  // the text follows the element's font size, which follows the screen (sized in rem); the
  // first call draws the chart
  let size = null;
  const observer = new ResizeObserver(([entry]) => {
    const now = `${entry.contentRect.width}x${entry.contentRect.height}`;
    if (now === size) return;
    size = now;
    chart.resize();
    laidOut = false;  // sizes follow the font size, which may have changed
    draw();
  });
  observer.observe(element);
  return {
    // labels, and one array of values per series, in the series' order
    update(newCategories, newValues) {
      const key = JSON.stringify([newCategories, newValues]);
      if (key === last) return;  // nothing changed: nothing drawn
      last = key;
      categories = newCategories;
      values = newValues;
      draw();
    },
    dispose() {
      disposed = true;
      observer.disconnect();
      chart.dispose();
    },
  };
}
