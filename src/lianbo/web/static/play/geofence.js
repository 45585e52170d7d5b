// Device-side geofencing, the same arithmetic as domain/alerting/geofence.py
// and geodesy.py: polygons by ray casting in (lon, lat) degrees with edges
// inside, circles by Vincenty's geodesic distance on WGS-84, region codes
// by prefix of the short form.

const A = 6378137.0;
const F = 1 / 298.257223563;
const B = A * (1 - F);
const AUTHALIC_RADIUS = 6371007.2;
const rad = (d) => (d * Math.PI) / 180;

function series(uSq) {
  const bigA = 1 + (uSq / 16384) * (4096 + uSq * (-768 + uSq * (320 - 175 * uSq)));
  const bigB = (uSq / 1024) * (256 + uSq * (-128 + uSq * (74 - 47 * uSq)));
  return [bigA, bigB];
}

function greatCircle(lat1, lon1, lat2, lon2) {
  const p1 = rad(lat1);
  const p2 = rad(lat2);
  const h = Math.sin((p2 - p1) / 2) ** 2
    + Math.cos(p1) * Math.cos(p2) * Math.sin(rad(lon2 - lon1) / 2) ** 2;
  return 2 * AUTHALIC_RADIUS * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Metres between two WGS-84 points (Vincenty's inverse formula). */
export function geodesicDistanceM(lat1, lon1, lat2, lon2) {
  const u1 = Math.atan((1 - F) * Math.tan(rad(lat1)));
  const u2 = Math.atan((1 - F) * Math.tan(rad(lat2)));
  const L = rad(lon2 - lon1);
  const [sinU1, cosU1, sinU2, cosU2] = [Math.sin(u1), Math.cos(u1), Math.sin(u2), Math.cos(u2)];
  let lam = L;
  let sinS; let cosS; let sigma; let cosSqA; let cos2sm;
  let converged = false;
  for (let i = 0; i < 200; i += 1) {
    const sinL = Math.sin(lam);
    const cosL = Math.cos(lam);
    sinS = Math.hypot(cosU2 * sinL, cosU1 * sinU2 - sinU1 * cosU2 * cosL);
    if (sinS === 0) return 0;
    cosS = sinU1 * sinU2 + cosU1 * cosU2 * cosL;
    sigma = Math.atan2(sinS, cosS);
    const sinA = (cosU1 * cosU2 * sinL) / sinS;
    cosSqA = 1 - sinA ** 2;
    cos2sm = cosSqA !== 0 ? cosS - (2 * sinU1 * sinU2) / cosSqA : 0;
    const c = (F / 16) * cosSqA * (4 + F * (4 - 3 * cosSqA));
    const previous = lam;
    lam = L + (1 - c) * F * sinA * (sigma + c * sinS * (cos2sm + c * cosS * (-1 + 2 * cos2sm ** 2)));
    if (Math.abs(lam - previous) < 1e-12) {
      converged = true;
      break;
    }
  }
  if (!converged) return greatCircle(lat1, lon1, lat2, lon2);
  const [bigA, bigB] = series((cosSqA * (A ** 2 - B ** 2)) / B ** 2);
  const deltaSigma = bigB * sinS * (cos2sm + (bigB / 4) * (cosS * (-1 + 2 * cos2sm ** 2)
    - (bigB / 6) * cos2sm * (-3 + 4 * sinS ** 2) * (-3 + 4 * cos2sm ** 2)));
  return B * bigA * (sigma - deltaSigma);
}

function onSegment(lat, lon, [y1, x1], [y2, x2]) {
  const cross = (x2 - x1) * (lat - y1) - (y2 - y1) * (lon - x1);
  if (cross !== 0) return false;
  return Math.min(x1, x2) <= lon && lon <= Math.max(x1, x2)
    && Math.min(y1, y2) <= lat && lat <= Math.max(y1, y2);
}

export function inPolygon(lat, lon, ring) {
  let inside = false;
  for (let i = 0; i < ring.length; i += 1) {
    const a = ring[i];
    const b = ring[(i + 1) % ring.length];
    if (onSegment(lat, lon, a, b)) return true;
    const [y1, x1] = a;
    const [y2, x2] = b;
    if ((y1 > lat) !== (y2 > lat)) {
      const xCross = x1 + ((lat - y1) * (x2 - x1)) / (y2 - y1);
      if (lon < xCross) inside = !inside;
    }
  }
  return inside;
}

export function inCircle(lat, lon, circle) {
  return geodesicDistanceM(circle.lat, circle.lon, lat, lon) <= circle.radius_km * 1000;
}

/** The short form of a GB/T 2260 code (trailing zero groups dropped). */
export function shortCode(code) {
  let c = String(code).trim();
  if (c.length === 12 && c.endsWith('000')) c = c.slice(0, 9);
  if (c.length === 9 && c.endsWith('000')) c = c.slice(0, 6);
  if (c.length === 6 && c.endsWith('00')) c = c.slice(0, 4);
  if (c.length === 4 && c.endsWith('00')) c = c.slice(0, 2);
  return c;
}

function coordinate(value) {
  const number = typeof value === 'string' ? Number(value) : value;
  return typeof number === 'number' && Number.isFinite(number) ? number : null;
}

/**
 * The device's decision for a notice's area: true → displayed, false →
 * outside-area. An area with nothing in it addresses everyone it reached.
 * A screen that does not know where it is (no coordinates, no region yet)
 * shows what reached it: in an emergency, failing safe means showing.
 */
export function inArea(area, terminal) {
  const polygons = area?.polygons || [];
  const circles = area?.circles || [];
  const regions = (area?.regions || []).map(shortCode);
  if (!polygons.length && !circles.length && !regions.length) return true;
  const lat = coordinate(terminal?.latitude ?? terminal?.lat);
  const lon = coordinate(terminal?.longitude ?? terminal?.lon);
  const located = lat !== null && lon !== null;
  const region = terminal?.region ? shortCode(terminal.region) : null;
  if (!located && !region) return true;
  if (located && polygons.some((ring) => inPolygon(lat, lon, ring))) return true;
  if (located && circles.some((circle) => inCircle(lat, lon, circle))) return true;
  if (region && regions.some((code) => region.startsWith(code))) return true;
  // Shapes we cannot test without coordinates do not exclude us.
  return !located && !regions.length;
}
