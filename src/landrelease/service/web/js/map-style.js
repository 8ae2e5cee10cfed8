// The map's style: admin areas as the offline base layer, then risk cells, outcomes, hazards, finds, accidents, EORE.
// Everything comes from this server's vector tiles; no online base map, no glyphs or sprites needed.

export const HAZARD_CLASSES = ['SHA', 'CHA', 'EOD', 'stockpile'];
export const HAZARD_STATUSES = ['active', 'worked_on', 'closed', 'handed_over'];
export const RELEASE_KINDS = ['cancelled', 'reduced', 'cleared'];

export const CLASS_COLOURS = { SHA: '#f2a900', CHA: '#d7263d', EOD: '#7b2cbf', stockpile: '#6c757d' };
export const KIND_COLOURS = { cancelled: '#8ecae6', reduced: '#2a9d8f', cleared: '#55a630' };
export const POINT_COLOURS = { finds: '#e76f51', accidents: '#111111', eore: '#1d4ed8' };
/** Predicted risk (0-1) from pale to dark: the risk cells of `landrelease risk predict --store`. */
export const RISK_COLOURS = [[0, '#fff3b0'], [0.25, '#f4a259'], [0.5, '#e05a2b'], [0.75, '#a4161a'], [1, '#5c0a0d']];

/** Toggleable groups of style layers, by the key of their label. */
export const LAYER_GROUPS = {
  hazards: ['hazards-fill', 'hazards-hatch', 'hazards-line', 'hazards-line-closed', 'hazards-selected'],
  outcomes: ['outcomes-fill', 'outcomes-line'],
  finds: ['finds'],
  accidents: ['accidents'],
  eore: ['eore'],
  risk_cells: ['risk-cells'],
  admin_areas: ['admin-fill', 'admin-line'],
};

function source(layer) {
  return {
    type: 'vector',
    tiles: [`${location.origin}/tiles/${layer}/{z}/{x}/{y}.mvt`],
    minzoom: 0,
    maxzoom: 16,
  };
}

function match(property, colours, fallback) {
  return ['match', ['get', property], ...Object.entries(colours).flat(), fallback];
}

export function mapStyle() {
  return {
    version: 8,
    sources: {
      admin: source('admin-areas'),
      hazards: source('hazards'),
      outcomes: source('outcomes'),
      finds: source('finds'),
      accidents: source('accidents'),
      eore: source('eore'),
      risk: source('risk-cells'),
    },
    layers: [
      { id: 'background', type: 'background', paint: { 'background-color': '#dfe7ee' } },
      {
        id: 'admin-fill',
        type: 'fill',
        source: 'admin',
        'source-layer': 'admin_areas',
        paint: { 'fill-color': '#f6f3ea', 'fill-opacity': 1 },
      },
      {
        id: 'admin-line',
        type: 'line',
        source: 'admin',
        'source-layer': 'admin_areas',
        paint: { 'line-color': '#8d8a80', 'line-width': 1.2 },
      },
      {
        // Risk cells under everything else: they guide survey, the records on top are the facts.
        id: 'risk-cells',
        type: 'circle',
        source: 'risk',
        'source-layer': 'risk_cells',
        filter: ['has', 'risk'],
        paint: {
          'circle-color': ['interpolate', ['linear'], ['get', 'risk'], ...RISK_COLOURS.flat()],
          'circle-radius': cellRadius(),
          'circle-opacity': 0.7,
        },
      },
      {
        id: 'outcomes-fill',
        type: 'fill',
        source: 'outcomes',
        'source-layer': 'outcomes',
        paint: { 'fill-color': match('kind', KIND_COLOURS, '#999999'), 'fill-opacity': 0.75 },
      },
      {
        id: 'outcomes-line',
        type: 'line',
        source: 'outcomes',
        'source-layer': 'outcomes',
        paint: { 'line-color': match('kind', KIND_COLOURS, '#999999'), 'line-width': 1 },
      },
      {
        id: 'hazards-fill',
        type: 'fill',
        source: 'hazards',
        'source-layer': 'hazards',
        paint: {
          'fill-color': match('hazard_class', CLASS_COLOURS, '#999999'),
          'fill-opacity': ['match', ['get', 'status'], 'active', 0.55, 'worked_on', 0.35, 0.12],
        },
      },
      {
        id: 'hazards-hatch',
        type: 'fill',
        source: 'hazards',
        'source-layer': 'hazards',
        filter: ['==', ['get', 'status'], 'worked_on'],
        paint: { 'fill-pattern': 'hatch' },
      },
      {
        // Open hazards: a solid outline (thick at small scales, so even small areas show as marks).
        id: 'hazards-line',
        type: 'line',
        source: 'hazards',
        'source-layer': 'hazards',
        filter: ['in', ['get', 'status'], ['literal', ['active', 'worked_on']]],
        paint: {
          'line-color': match('hazard_class', CLASS_COLOURS, '#999999'),
          'line-width': ['interpolate', ['linear'], ['zoom'], 6, 3, 12, 2, 16, 2.5],
        },
      },
      {
        // Closed and handed-over hazards: a dashed outline.
        id: 'hazards-line-closed',
        type: 'line',
        source: 'hazards',
        'source-layer': 'hazards',
        filter: ['in', ['get', 'status'], ['literal', ['closed', 'handed_over']]],
        paint: {
          'line-color': match('hazard_class', CLASS_COLOURS, '#999999'),
          'line-width': ['interpolate', ['linear'], ['zoom'], 6, 2, 12, 1.5],
          'line-dasharray': [2, 1.5],
        },
      },
      {
        id: 'hazards-selected',
        type: 'line',
        source: 'hazards',
        'source-layer': 'hazards',
        filter: ['==', ['get', 'id'], ''],
        paint: { 'line-color': '#0044ff', 'line-width': 4 },
      },
      pointLayer('finds', 4),
      pointLayer('accidents', 5),
      pointLayer('eore', 4),
    ],
  };
}

/** A risk cell's circle: about half its side on the ground (metres per pixel at the equator, so a little less
 * away from it: the dots do not touch), never under 1.5 pixels. */
function cellRadius() {
  const stops = [];
  for (let z = 2; z <= 20; z += 2) {
    stops.push(z, ['max', 1.5, ['*', ['coalesce', ['get', 'cell_size_m'], 1000], (0.5 * 2 ** z) / 156543.03]]);
  }
  return ['interpolate', ['exponential', 2], ['zoom'], ...stops];
}

function pointLayer(name, radius) {
  return {
    id: name,
    type: 'circle',
    source: name,
    'source-layer': name,
    paint: {
      'circle-color': POINT_COLOURS[name],
      'circle-radius': ['interpolate', ['linear'], ['zoom'], 6, radius - 2, 14, radius + 2],
      'circle-stroke-color': '#ffffff',
      'circle-stroke-width': 1,
    },
  };
}

/** The hatch pattern for hazards being worked on (drawn here: no sprite file needed). */
export function hatchImage(size = 8) {
  const data = new Uint8Array(size * size * 4);
  for (let y = 0; y < size; y += 1) {
    for (let x = 0; x < size; x += 1) {
      if ((x + y) % size === 0 || (x + y) % size === size - 1) {
        const i = (y * size + x) * 4;
        data.set([40, 40, 40, 200], i);
      }
    }
  }
  return { width: size, height: size, data };
}

/** The style filter of the hazard layers for the chosen classes and statuses. */
export function hazardFilter(classes, statuses) {
  return ['all', ['in', ['get', 'hazard_class'], ['literal', classes]], ['in', ['get', 'status'], ['literal', statuses]]];
}
