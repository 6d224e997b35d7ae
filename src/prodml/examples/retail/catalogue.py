"""Static reference data for the retail example: products, names, countries and category mixes."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Product:
    """One product the example shop sells.

    Attributes:
        product_id: ``P001`` … ``P050``.
        name: a readable product name.
        category: the product's category.
        base_price: the usual unit price in EUR before noise, promotions or drift.
        popularity: relative demand weight when an order line picks a product.
    """

    product_id: str
    name: str
    category: str
    base_price: float
    popularity: float


# (category, name, base price in EUR, popularity)
_PRODUCT_TABLE: tuple[tuple[str, str, float, float], ...] = (
    ("coffee", "Espresso beans 1 kg", 18.90, 6.0),
    ("coffee", "Filter coffee 500 g", 7.49, 8.0),
    ("coffee", "Decaf beans 500 g", 9.99, 2.0),
    ("coffee", "Cold brew 4-pack", 6.99, 3.0),
    ("coffee", "Coffee capsules x30", 11.50, 5.0),
    ("tea", "Green tea 50 bags", 4.29, 4.0),
    ("tea", "Earl Grey loose 250 g", 8.90, 2.5),
    ("tea", "Chamomile 20 bags", 2.99, 3.0),
    ("tea", "Matcha powder 30 g", 14.90, 1.5),
    ("tea", "Rooibos 40 bags", 3.79, 2.0),
    ("bakery", "Sourdough loaf", 4.50, 7.0),
    ("bakery", "Croissants x4", 3.20, 6.0),
    ("bakery", "Rye crispbread", 2.40, 3.0),
    ("bakery", "Cinnamon buns x2", 3.90, 4.0),
    ("bakery", "Gluten-free bread", 5.20, 1.5),
    ("dairy", "Whole milk 1 l", 1.19, 9.0),
    ("dairy", "Greek yoghurt 500 g", 2.49, 6.0),
    ("dairy", "Aged gouda 300 g", 5.79, 3.5),
    ("dairy", "Butter 250 g", 2.89, 6.5),
    ("dairy", "Oat drink 1 l", 2.19, 5.0),
    ("produce", "Bananas 1 kg", 1.89, 8.0),
    ("produce", "Apples 1.5 kg", 3.49, 6.0),
    ("produce", "Avocados x2", 2.99, 4.5),
    ("produce", "Cherry tomatoes 250 g", 2.29, 5.0),
    ("produce", "Baby spinach 200 g", 1.99, 3.5),
    ("snacks", "Sea salt crisps", 1.99, 6.0),
    ("snacks", "Dark chocolate 100 g", 2.49, 5.5),
    ("snacks", "Mixed nuts 200 g", 4.99, 3.0),
    ("snacks", "Granola bars x6", 3.59, 3.5),
    ("snacks", "Rice cakes", 1.49, 2.0),
    ("beverages", "Sparkling water 6x1 l", 3.99, 6.0),
    ("beverages", "Orange juice 1 l", 2.79, 5.0),
    ("beverages", "Craft lemonade 330 ml", 1.89, 3.0),
    ("beverages", "Kombucha 500 ml", 3.29, 2.0),
    ("beverages", "Red wine 750 ml", 9.90, 2.5),
    ("household", "Dish soap 750 ml", 2.59, 3.0),
    ("household", "Laundry pods x30", 12.99, 2.5),
    ("household", "Paper towels x4", 4.49, 3.5),
    ("household", "Bin bags x20", 3.19, 2.0),
    ("household", "Sponges x5", 1.79, 2.0),
    ("personal_care", "Shampoo 300 ml", 4.99, 2.5),
    ("personal_care", "Toothpaste 75 ml", 2.29, 3.0),
    ("personal_care", "Shower gel 250 ml", 2.99, 2.5),
    ("personal_care", "Hand cream 75 ml", 5.49, 1.5),
    ("personal_care", "Razor blades x4", 13.90, 1.0),
    ("frozen", "Margherita pizza", 3.99, 4.5),
    ("frozen", "Frozen berries 500 g", 4.29, 2.5),
    ("frozen", "Vanilla ice cream 1 l", 4.79, 3.0),
    ("frozen", "Vegetable dumplings", 5.59, 2.0),
    ("frozen", "Fish fingers x15", 4.99, 2.5),
)

PRODUCTS: tuple[Product, ...] = tuple(
    Product(f"P{number:03d}", name, category, price, popularity)
    for number, (category, name, price, popularity) in enumerate(_PRODUCT_TABLE, start=1)
)

# ISO-3166 alpha-2 codes and their share of customers.
COUNTRIES: tuple[tuple[str, float], ...] = (
    ("DE", 24.0),
    ("FR", 17.0),
    ("IT", 12.0),
    ("ES", 11.0),
    ("NL", 9.0),
    ("PL", 7.0),
    ("BE", 5.0),
    ("AT", 5.0),
    ("SE", 4.0),
    ("IE", 3.0),
    ("PT", 3.0),
)

SEGMENTS: tuple[tuple[str, float], ...] = (("consumer", 75.0), ("smb", 20.0), ("enterprise", 5.0))
CHANNELS: tuple[tuple[str, float], ...] = (("web", 50.0), ("store", 32.0), ("mobile", 18.0))
STATUSES: tuple[tuple[str, float], ...] = (
    ("placed", 52.0),
    ("shipped", 25.0),
    ("delivered", 14.0),
    ("cancelled", 6.0),
    ("returned", 3.0),
)

# Orders a day, relative to the base, Monday first: weekends are busier.
WEEKDAY_FACTOR: tuple[float, ...] = (0.9, 0.88, 0.93, 0.98, 1.08, 1.3, 1.22)

FIRST_NAMES: tuple[str, ...] = (
    "Anna", "Lukas", "Sofia", "Jonas", "Emma", "Mateo", "Léa", "Noah", "Giulia", "Finn",
    "Marta", "Hugo", "Zofia", "Liam", "Chloé", "Oskar", "Elena", "Luca", "Inès", "Jakub",
    "Sara", "Daan", "Maja", "Pablo", "Julia", "Emil", "Alba", "Théo", "Ida", "Bram",
    "Nora", "Tomás", "Lotte", "Felix", "Aoife", "Matteo", "Clara", "Jan", "Lucía", "Sean",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "Müller", "Dubois", "Rossi", "García", "de Vries", "Nowak", "Peeters", "Gruber",
    "Andersson", "Murphy", "Silva", "Schmidt", "Martin", "Bianchi", "López", "Jansen",
    "Kowalski", "Janssens", "Huber", "Johansson", "Kelly", "Santos", "Weber", "Bernard",
    "Romano", "Fernández", "Bakker", "Wiśniewski", "Maes", "Wagner", "Lindqvist", "Byrne",
    "Ferreira", "Fischer", "Moreau", "Colombo", "Sánchez", "Visser", "Lewandowski", "Novak",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.org", "example.net", "mail.example")
