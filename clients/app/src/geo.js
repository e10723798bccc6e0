/* The phone's position (with its accuracy) and distances, for check-ins and "near me". */

/** One fix: {lat, lon, accuracy_m, at}; rejects with the browser's error (denied, timeout). */
export function position({ timeout = 15000 } = {}) {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error('unavailable')); return }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy_m: Math.round(p.coords.accuracy * 10) / 10, at: new Date(p.timestamp || Date.now()) }),
      (error) => reject(error),
      { enableHighAccuracy: true, timeout, maximumAge: 30000 },
    )
  })
}

/** Great-circle distance in metres (enough for sorting and a hint; the server judges check-ins). */
export function distance(a, b) {
  if (a?.lat == null || b?.lat == null) return null
  const rad = Math.PI / 180
  const dLat = (b.lat - a.lat) * rad
  const dLon = (b.lon - a.lon) * rad
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2
  return 2 * 6371008.8 * Math.asin(Math.sqrt(h))
}
