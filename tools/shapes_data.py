"""Procedural "coloured shapes on a textured background" images for the zoo's vision models.

Shared by tools/train_shapes_vit.py (count the objects) and, later, the shapes-vqa script (questions about colour,
shape, count and position), so it holds only scene sampling, rendering and compact storage -- no task logic.

A *scene* is plain JSON-able data:
    {'size': 64,
     'background': {'base': [r, g, b], 'levels': [...], 'grid': g, 'seed': s},
     'objects': [{'shape': 'circle', 'colour': 'red', 'centre': [x, y], 'radius': r}, ...]}
`centre` is in pixels (x to the right, y down, pixel (i, j) has its centre at (j + 0.5, i + 0.5)), `radius` is the
circumradius in pixels. Objects never overlap: their circumcircles are at least `min_gap` pixels apart, and every
object lies fully inside the image.

`render(scene)` draws it as an H x W x 3 uint8 array (hard edges, no anti-aliasing, so an image has few distinct
colours and packs into one byte per pixel, see `pack_images`). Everything is deterministic: sampling takes a
numpy Generator, and the background texture is drawn from its own stored seed, so a scene re-renders to the same
bytes.

Shapes (all upright, centred on `centre`):
  circle    disc of radius r
  square    axis-aligned square of half-side 0.8 r
  triangle  equilateral triangle with circumradius r, apex up (centroid at `centre`)
  star      five-pointed star, outer radius r, inner radius 0.45 r, a point up
"""
import base64

import numpy as np

SHAPES = ('circle', 'square', 'triangle', 'star')
# Saturated colours, far from the muted grey-ish backgrounds below.
COLOURS = {
    'red': (220, 40, 40),
    'green': (40, 170, 60),
    'blue': (45, 90, 230),
    'yellow': (240, 205, 30),
    'purple': (150, 60, 200),
    'orange': (250, 135, 20),
}
COLOUR_NAMES = tuple(COLOURS)

SQUARE_HALF_SIDE = 0.8
STAR_INNER = 0.45


def _regular_polygon(cx, cy, r, n, start_deg=-90.0):
    angles = np.deg2rad(start_deg + 360.0 * np.arange(n) / n)
    return np.stack([cx + r * np.cos(angles), cy + r * np.sin(angles)], axis=1)


def _star_polygon(cx, cy, r):
    angles = np.deg2rad(-90.0 + 36.0 * np.arange(10))
    radii = np.where(np.arange(10) % 2 == 0, r, r * STAR_INNER)
    return np.stack([cx + radii * np.cos(angles), cy + radii * np.sin(angles)], axis=1)


def _polygon_mask(xs, ys, vertices):
    """Even-odd point-in-polygon test of every pixel centre."""
    inside = np.zeros(xs.shape, dtype=bool)
    n = len(vertices)
    for k in range(n):
        x1, y1 = vertices[k]
        x2, y2 = vertices[(k + 1) % n]
        if y1 == y2:
            continue
        crosses = (ys >= min(y1, y2)) & (ys < max(y1, y2))
        x_at = x1 + (ys - y1) * (x2 - x1) / (y2 - y1)
        inside ^= crosses & (xs < x_at)
    return inside


def shape_mask(shape, centre, radius, size):
    """Boolean size x size mask of the pixels whose centres fall inside the shape."""
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float64) + 0.5
    cx, cy = centre
    if shape == 'circle':
        return (xs - cx) ** 2 + (ys - cy) ** 2 <= radius ** 2
    if shape == 'square':
        h = SQUARE_HALF_SIDE * radius
        return (np.abs(xs - cx) <= h) & (np.abs(ys - cy) <= h)
    if shape == 'triangle':
        return _polygon_mask(xs, ys, _regular_polygon(cx, cy, radius, 3))
    if shape == 'star':
        return _polygon_mask(xs, ys, _star_polygon(cx, cy, radius))
    raise ValueError(f'unknown shape {shape!r}')


def sample_background(rng, grid=4, levels=5, step=6):
    """A muted base colour and the parameters of a blocky value-noise texture around it.

    The texture is a `grid` x `grid` field of random values, bilinearly upsampled and quantised to `levels` grey
    offsets `step` apart (e.g. -12..+12): visible texture that never looks like a saturated object.
    """
    grey = int(rng.integers(95, 176))
    tint = rng.integers(-12, 13, size=3)
    base = [int(v) for v in np.clip(grey + tint, 0, 255)]
    offsets = [int(step * (k - (levels - 1) / 2)) for k in range(levels)]
    return {'base': base, 'levels': offsets, 'grid': int(grid), 'seed': int(rng.integers(0, 2 ** 31 - 1))}


def render_background(background, size):
    """H x W x 3 int16 background texture (deterministic from the background's own seed)."""
    bg_rng = np.random.default_rng(background['seed'])
    g = background['grid']
    coarse = bg_rng.random((g + 1, g + 1))
    # Bilinear upsampling of the (g+1)^2 lattice over the image.
    t = (np.arange(size) + 0.5) * g / size
    i0 = np.minimum(t.astype(int), g - 1)
    f = t - i0
    rows = coarse[i0] * (1 - f)[:, None] + coarse[i0 + 1] * f[:, None]          # size x (g+1)
    field = rows[:, i0] * (1 - f)[None, :] + rows[:, i0 + 1] * f[None, :]       # size x size
    levels = np.asarray(background['levels'], dtype=np.int16)
    index = np.minimum((field * len(levels)).astype(int), len(levels) - 1)
    return np.asarray(background['base'], dtype=np.int16)[None, None, :] + levels[index][:, :, None]


def sample_scene(rng, size=64, n_objects=None, counts=(1, 2, 3), radius=(8, 13), min_gap=3, shapes=SHAPES,
                 colours=COLOUR_NAMES, unique_shapes=False, unique_colours=False, max_tries=200, **background):
    """Samples a scene: `n_objects` (or one of `counts`) non-overlapping objects on a textured background.

    radius: inclusive integer range of circumradii in pixels. unique_shapes / unique_colours: no two objects share
    a shape / a colour (useful for questions such as "what colour is the circle ?").
    """
    if n_objects is None:
        n_objects = int(counts[int(rng.integers(0, len(counts)))])
    for _ in range(max_tries):
        objects = []
        ok = True
        shape_pool = list(rng.permutation(len(shapes))) if unique_shapes else None
        colour_pool = list(rng.permutation(len(colours))) if unique_colours else None
        for k in range(n_objects):
            r = int(rng.integers(radius[0], radius[1] + 1))
            shape = shapes[shape_pool[k]] if unique_shapes else shapes[int(rng.integers(0, len(shapes)))]
            colour = colours[colour_pool[k]] if unique_colours else colours[int(rng.integers(0, len(colours)))]
            for _attempt in range(50):
                cx = float(rng.integers(r + 1, size - r)) + 0.5 * float(rng.integers(0, 2))
                cy = float(rng.integers(r + 1, size - r)) + 0.5 * float(rng.integers(0, 2))
                if all((cx - o['centre'][0]) ** 2 + (cy - o['centre'][1]) ** 2 >= (r + o['radius'] + min_gap) ** 2
                       for o in objects):
                    break
            else:
                ok = False
                break
            objects.append({'shape': shape, 'colour': colour, 'centre': [cx, cy], 'radius': r})
        if ok:
            return {'size': int(size), 'background': sample_background(rng, **background), 'objects': objects}
    raise RuntimeError(f'could not place {n_objects} objects of radius {radius} in a {size}px image')


def render(scene):
    """Draws a scene as an H x W x 3 uint8 array."""
    size = scene['size']
    image = render_background(scene['background'], size)
    for obj in scene['objects']:
        mask = shape_mask(obj['shape'], obj['centre'], obj['radius'], size)
        image[mask] = COLOURS[obj['colour']]
    return np.clip(image, 0, 255).astype(np.uint8)


def render_float(scene, mean=0.5, std=0.5):
    """3 x H x W float32, rescaled to [0, 1] then normalised ((x - mean) / std), as ViTImageProcessor does."""
    return ((render(scene).astype(np.float32) / 255.0 - mean) / std).transpose(2, 0, 1).copy()


def sample_images(rng, n, **scene_kwargs):
    """n scenes and their renders: (list of scenes, n x H x W x 3 uint8 array)."""
    scenes = [sample_scene(rng, **scene_kwargs) for _ in range(n)]
    return scenes, np.stack([render(s) for s in scenes])


def pack_images(images):
    """Compact JSON-able form of N x H x W x 3 uint8 images: one byte per pixel into a per-image palette.

    Returns {'encoding': 'palette-u8', 'height', 'width', 'images': [{'palette': [[r,g,b],...],
    'indices': base64 of H*W uint8 in row-major order}]}; pixel (i, j) = palette[indices[i * W + j]].
    """
    n, h, w, _ = images.shape
    packed = []
    for image in images:
        colours, inverse = np.unique(image.reshape(-1, 3), axis=0, return_inverse=True)
        if len(colours) > 256:
            raise ValueError('image has more than 256 colours')
        packed.append({'palette': colours.astype(int).tolist(),
                       'indices': base64.b64encode(inverse.reshape(-1).astype(np.uint8).tobytes()).decode('ascii')})
    return {'encoding': 'palette-u8', 'height': int(h), 'width': int(w), 'images': packed}


def unpack_images(packed):
    """Inverse of pack_images: N x H x W x 3 uint8."""
    h, w = packed['height'], packed['width']
    out = []
    for item in packed['images']:
        palette = np.asarray(item['palette'], dtype=np.uint8)
        indices = np.frombuffer(base64.b64decode(item['indices']), dtype=np.uint8)
        out.append(palette[indices].reshape(h, w, 3))
    return np.stack(out)


if __name__ == '__main__':
    # Preview: python3 tools/shapes_data.py out.ppm  -> a 4x4 sheet of sample scenes.
    import sys
    rng = np.random.default_rng(0)
    _, imgs = sample_images(rng, 16)
    sheet = imgs.reshape(4, 4, 64, 64, 3).transpose(0, 2, 1, 3, 4).reshape(256, 256, 3)
    path = sys.argv[1] if len(sys.argv) > 1 else '/tmp/shapes_preview.ppm'
    with open(path, 'wb') as f:
        f.write(b'P6 256 256 255\n' + sheet.tobytes())
    print('wrote', path)
