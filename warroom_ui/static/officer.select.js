// officer.select.js — picking features of one layer on the map: a click (shift-click adds or
// removes), a box dragged with the mouse, or a lasso drawn freehand. The map does not pan
// while a box or lasso is drawn; the shape is drawn over the map as it grows.
//
//   const picker = new Picker(map, "units-point", pick => ...);
//   picker.setMode("lasso");   // "click" | "box" | "lasso"
//
// pick: { ids: [id], add: bool } | { box: [w, s, e, n] } | { lasso: GeoJSON Polygon }

const SVG = "http://www.w3.org/2000/svg";
const MIN_STEP_PX = 4;  // lasso points closer than this to the last add nothing but vertices

export class Picker {
  /** Pick features drawn by style layer `styleId` on `map`; `onPick(pick)` gets each pick. */
  constructor(map, styleId, onPick) {
    this.map = map;
    this.styleId = styleId;
    this.onPick = onPick;
    this.mode = "click";
    this.overlay = document.createElementNS(SVG, "svg");
    this.overlay.setAttribute("class", "gesture");
    map.getContainer().append(this.overlay);
    map.boxZoom.disable();  // shift is ours: shift-click adds to the selection
    map.on("click", event => this.clicked(event));
    map.getCanvasContainer().addEventListener("mousedown", event => this.started(event));
  }

  /** Pick by "click", "box" or "lasso" from now on. */
  setMode(mode) {
    this.mode = mode;
    if (mode === "click") this.map.dragPan.enable();
    else this.map.dragPan.disable();
  }

  clicked(event) {
    if (this.mode !== "click") return;
    const hits = this.map.queryRenderedFeatures(event.point, { layers: [this.styleId] })
      .filter(hit => hit.id !== undefined && !(hit.properties.count > 1));
    const add = event.originalEvent.shiftKey;
    if (hits.length || !add) this.onPick({ ids: hits.slice(0, 1).map(hit => hit.id), add, hits });
  }

  started(event) {
    if (this.mode === "click" || event.button !== 0) return;
    event.preventDefault();
    const box = this.map.getCanvasContainer().getBoundingClientRect();
    const at = e => [e.clientX - box.left, e.clientY - box.top];
    const points = [at(event)];
    const shape = document.createElementNS(SVG, this.mode === "box" ? "rect" : "polyline");
    this.overlay.replaceChildren(shape);
    const draw = () => {
      if (this.mode === "box") {
        const [[x0, y0], [x1, y1]] = [points[0], points.at(-1)];
        Object.entries({ x: Math.min(x0, x1), y: Math.min(y0, y1), width: Math.abs(x1 - x0),
                         height: Math.abs(y1 - y0) }).forEach(([k, v]) => shape.setAttribute(k, v));
      } else {
        shape.setAttribute("points", points.map(p => p.join(",")).join(" "));
      }
    };
    const moved = e => {
      const point = at(e);
      const last = points.at(-1);
      if (this.mode === "box") points[1] = point;
      else if (Math.hypot(point[0] - last[0], point[1] - last[1]) >= MIN_STEP_PX) points.push(point);
      draw();
    };
    const ended = () => {
      window.removeEventListener("mousemove", moved);
      window.removeEventListener("mouseup", ended);
      this.overlay.replaceChildren();
      this.finish(points);
    };
    window.addEventListener("mousemove", moved);
    window.addEventListener("mouseup", ended);
  }

  finish(points) {
    const lngLats = points.map(p => this.map.unproject(p)).map(l => [l.lng, l.lat]);
    if (this.mode === "box" && lngLats.length === 2) {
      const [[x0, y0], [x1, y1]] = lngLats;
      if (x0 !== x1 && y0 !== y1) {
        this.onPick({ box: [Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)] });
      }
    } else if (this.mode === "lasso" && lngLats.length >= 3) {
      this.onPick({ lasso: { type: "Polygon", coordinates: [[...lngLats, lngLats[0]]] } });
    }
  }
}

/** Return a pick's shape as the selection API takes it (ids, box or lasso) for `layer`. */
export function selectionOf(layer, shape, ids) {
  if (shape?.box) return { box: shape.box };
  if (shape?.lasso) return { lasso: shape.lasso };
  return { ids: { [layer]: [...ids] } };
}
