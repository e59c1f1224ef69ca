import io, os, sys
from concurrent.futures import ProcessPoolExecutor
from PIL import Image, ImageDraw, ImageOps   # pip install Pillow

MAX_W, MAX_H = 800, 600   # the box thumbnails fit in
WORKERS = os.cpu_count()  # one process per core
BROKEN = True             # include a broken file

def thumbnail(name, data, box=(MAX_W, MAX_H)):
    try:
        image = Image.open(io.BytesIO(data))     # PNG, JPEG, or "cannot identify image file"
        image = ImageOps.exif_transpose(image)   # phone photos: turn upright first
        image.thumbnail(box)                     # fit within the box, keep proportions
        out = io.BytesIO()
        image.convert("RGBA").save(out, "PNG")
        return name, image.size, out.getvalue(), None
    except Exception as error:                   # a broken file fails alone
        return name, None, None, str(error)

def cost(data, box=(MAX_W, MAX_H)):              # the header only: pixels to decode, then to encode
    try:
        width, height = Image.open(io.BytesIO(data)).size
        scale = min(1, box[0] / width, box[1] / height)
        return width * height + round(width * scale) * round(height * scale)
    except Exception:
        return 0

def generated(name, w, h):                       # the tutorial read files you had; these are made here
    image = Image.new("RGB", (w, h), (40, 90, 160))
    ImageDraw.Draw(image).ellipse((w // 4, h // 4, 3 * w // 4, 3 * h // 4), fill=(250, 200, 60))
    out = io.BytesIO(); image.save(out, "PNG")
    return name, out.getvalue()

if __name__ == "__main__":
    sizes = {"sunset.png": (1600, 1200), "tower.png": (1200, 1600), "panorama.png": (3000, 750),
             "garden.png": (2000, 1000), "target.png": (1400, 1400), "harbor.png": (1800, 1100),
             "icon.png": (500, 500)}             # the page's "Normal" sizes
    files = dict(generated(name, w, h) for name, (w, h) in sizes.items())
    if BROKEN:
        files["broken.png"] = b"\x89PNG\r\n\x1a\n this is not really an image"
    for path in sys.argv[1:]:                    # then yours: python image_resize.py photo.jpg ...
        with open(path, "rb") as f:
            files[path] = f.read()
    names = sorted(files, key=lambda name: cost(files[name]), reverse=True)   # largest first: balanced
    with ProcessPoolExecutor(WORKERS) as pool:   # the bytes are pickled to each worker
        results = list(pool.map(thumbnail, names, [files[name] for name in names]))
    for name, size, png, error in results:
        print(name, error or f"{size[0]} x {size[1]}, {len(png)} bytes")
    print("thumbnails", sum(error is None for *_, error in results), "errors", sum(error is not None for *_, error in results))
