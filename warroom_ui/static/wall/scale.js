// Text on the wall is readable from the room: at least 16 arcminutes high at the viewing
// distance, and it grows with the screen so a 5760x3240 wall shows the same page as a
// 1920x1080 one. The root font size (1rem) is that height; the page is laid out in rem.
//
// Configured by the address: /warroom?distance_m=4&screen_height_m=1.35 (the defaults: a
// 2x2 wall of 55-inch panels watched from 4 m).

const ARCMINUTES = 16;
const VIEWPORT_SHARE = 0.0165;  // 1rem = 1.65 % of the screen's height, at least

export function wallSettings(search = location.search) {
  const query = new URLSearchParams(search);
  const number = (name, fallback) => {
    const value = Number(query.get(name));
    return Number.isFinite(value) && value > 0 ? value : fallback;
  };
  return { distanceM: number("distance_m", 4), screenHeightM: number("screen_height_m", 1.35) };
}

// CSS pixels a text must be to subtend ARCMINUTES at the viewer's distance.
export function minimumTextPx({ distanceM, screenHeightM }, viewportHeightPx) {
  const heightM = 2 * distanceM * Math.tan((ARCMINUTES / 60) * (Math.PI / 180) / 2);
  return (heightM / screenHeightM) * viewportHeightPx;
}

// Set 1rem for this screen; call again on resize. Returns the root size in px.
export function applyScale(settings) {
  const height = window.innerHeight;
  const rem = Math.max(minimumTextPx(settings, height), VIEWPORT_SHARE * height);
  document.documentElement.style.fontSize = `${rem.toFixed(2)}px`;
  document.documentElement.dataset.minTextPx = minimumTextPx(settings, height).toFixed(2);
  return rem;
}
