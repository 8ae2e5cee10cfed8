// The map's style: admin areas as the offline base layer, then outcomes, hazards, finds, accidents, EORE.
// Everything comes from this server's vector tiles; no online base map, no glyphs or sprites needed.

export const HAZARD_CLASSES = ['SHA', 'CHA', 'EOD', 'stockpile'];
export const HAZARD_STATUSES = ['active', 'worked_on', 'closed', 'handed_over'];
export const RELEASE_KINDS = ['cancelled', 'reduced', 'cleared'];

export const CLASS_COLOURS = { SHA: '#f2a900', CHA: '#d7263d', EOD: '#7b2cbf', stockpile: '#6c757d' };
export const KIND_COLOURS = { cancelled: '#8ecae6', reduced: '#2a9d8f', cleared: '#55a630' };
export const POINT_COLOURS = { finds: '#e76f51', accidents: '#111111', eore: '#1d4ed8' };

/** Toggleable groups of style layers, by the key of their label. */
export const LAYER_GROUPS = {
  hazards: ['hazards-fill', 'hazards-hatch', 'hazards-line', 'hazards-line-closed', 'hazards-selected'],
  outcomes: ['outcomes-fill', 'outcomes-line'],
  finds: ['finds'],
  accidents: ['accidents'],
  eore: ['eore'],
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
