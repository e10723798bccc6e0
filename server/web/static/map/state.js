/* What the map's modules share: the Leaflet map and its layer groups, the loaded features, the
 * selection and the active tool; and the counts of what the map shows. */

export const state = {
  user: null,
  map: null,
  layers: {}, // name -> L.FeatureGroup (base-map.js)
  territories: [], // GeoJSON features
  territoryLayers: new Map(), // id -> L.Polygon
  customers: [], // GeoJSON features (all, including those without geometry)
  customerMarkers: new Map(), // id -> L.CircleMarker
  users: new Map(), // id -> user (reps and managers visible)
  teams: [],
  selection: [], // customer ids
  tool: null, // "draw" | "edit" | "select"
  hint: null, // {key, vars} of the tool hint shown
  editing: null, // {id, layer, version, original}
  route: null, // {repId, date, stops}
  panelRender: null, // redraws the side panel's content after a language change
  fitted: false,
};

/** The stats under the map show these; the browser tests read them (test-hooks.js). */
export const counts = { customers: 0, overdue: 0, needsLocation: 0, territories: 0, reps: 0, stops: 0 };
