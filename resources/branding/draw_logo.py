"""Draw the placeholder hospital logo (a white cross on a teal rounded square) as logo.png."""

from pathlib import Path

from PIL import Image, ImageDraw

SIZE = 256
TEAL = (0, 121, 124, 255)
WHITE = (255, 255, 255, 255)


def draw_logo(size: int = SIZE) -> Image.Image:
    """The logo at `size` x `size` pixels, transparent outside the rounded square."""
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    pen = ImageDraw.Draw(image)
    pen.rounded_rectangle((0, 0, size - 1, size - 1), radius=size // 6, fill=TEAL)
    arm, half = size * 5 // 8, size * 3 // 32
    low, high = (size - arm) // 2, (size + arm) // 2
    mid = size // 2
    pen.rectangle((mid - half, low, mid + half, high), fill=WHITE)
    pen.rectangle((low, mid - half, high, mid + half), fill=WHITE)
    return image


if __name__ == "__main__":
    draw_logo().save(Path(__file__).with_name("logo.png"), optimize=True)
