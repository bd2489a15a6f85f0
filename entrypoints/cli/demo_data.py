"""The sample `keygate demo` writes: a few categories of things people list, search and
sort, each with a description and metadata of its own shape."""

from __future__ import annotations

from typing import Any

Item = tuple[str, str, dict[str, Any]]

SAMPLE: dict[str, list[Item]] = {
    "books": [
        ("The Pragmatic Programmer", "Hunt and Thomas on the craft of software.", {"year": 1999}),
        (
            "Designing Data-Intensive Applications",
            "Kleppmann on storage and streams.",
            {"year": 2017},
        ),
        ("Refactoring", "Fowler's catalogue of small, safe changes to code.", {"year": 1999}),
        (
            "The Mythical Man-Month",
            "Brooks on why adding people makes late projects later.",
            {"year": 1975},
        ),
        (
            "Structure and Interpretation of Computer Programs",
            "Abelson and Sussman, in Scheme.",
            {"year": 1985},
        ),
        ("A Philosophy of Software Design", "Ousterhout on deep modules.", {"year": 2018}),
        ("Working Effectively with Legacy Code", "Feathers on seams and tests.", {"year": 2004}),
        ("The Art of PostgreSQL", "Fontaine on SQL as a programming language.", {"year": 2019}),
    ],
    "recipes": [
        ("Tomato soup", "Roasted tomatoes, garlic and basil; 40 minutes.", {"serves": 4}),
        ("Pancakes", "Flour, milk, eggs; rest the batter for half an hour.", {"serves": 2}),
        ("Lentil curry", "Red lentils in coconut milk with cumin and ginger.", {"serves": 4}),
        ("Focaccia", "A wet dough, olive oil and rosemary; bake at 230 °C.", {"serves": 8}),
        ("Shakshuka", "Eggs poached in a spiced tomato and pepper sauce.", {"serves": 2}),
        ("Risotto", "Arborio rice stirred with stock until creamy.", {"serves": 3}),
        ("Guacamole", "Avocado, lime, onion, chili and salt, nothing more.", {"serves": 4}),
        ("Banana bread", "Very ripe bananas make the best loaf.", {"serves": 10}),
    ],
    "places": [
        ("Lisbon", "Seven hills, trams and the Tagus.", {"country": "PT"}),
        ("Kyoto", "Temples, gardens and the Philosopher's Path.", {"country": "JP"}),
        ("Reykjavik", "Harbour town at the edge of the lava fields.", {"country": "IS"}),
        ("Cape Town", "Table Mountain over two oceans.", {"country": "ZA"}),
        ("Vancouver", "Mountains and sea, an hour apart.", {"country": "CA"}),
        ("Edinburgh", "An old town and a new town under a castle.", {"country": "GB"}),
        ("Oaxaca", "Markets, mole and mezcal.", {"country": "MX"}),
        ("Tallinn", "A walled medieval town and a digital state.", {"country": "EE"}),
    ],
    "tools": [
        ("curl", "Transfers data with URLs, from the command line.", {"license": "curl"}),
        ("jq", "Slices and filters JSON on the command line.", {"license": "MIT"}),
        ("PostgreSQL", "The relational database keygate runs on.", {"license": "PostgreSQL"}),
        ("ripgrep", "Searches directories for a regex, fast.", {"license": "MIT"}),
        ("tmux", "Terminal multiplexer: sessions that survive a disconnect.", {"license": "ISC"}),
        ("Git", "Distributed version control.", {"license": "GPL-2.0"}),
        ("uv", "Python packages and projects, resolved and installed.", {"license": "MIT"}),
        ("htop", "Interactive process viewer.", {"license": "GPL-2.0"}),
    ],
    "music": [
        ("Kind of Blue", "Miles Davis, modal jazz, 1959.", {"artist": "Miles Davis"}),
        ("Blue Train", "John Coltrane's hard bop date for Blue Note.", {"artist": "Coltrane"}),
        (
            "The Köln Concert",
            "Keith Jarrett improvising alone on a poor piano.",
            {"artist": "Keith Jarrett"},
        ),
        (
            "Goldberg Variations",
            "Bach, as Glenn Gould played it in 1981.",
            {"artist": "Glenn Gould"},
        ),
        ("Music for Airports", "Brian Eno's first ambient record.", {"artist": "Brian Eno"}),
        (
            "Buena Vista Social Club",
            "Havana's son veterans, recorded in 1996.",
            {"artist": "Various"},
        ),
        ("Rumours", "Fleetwood Mac, 1977.", {"artist": "Fleetwood Mac"}),
        ("Blue", "Joni Mitchell's fourth album.", {"artist": "Joni Mitchell"}),
    ],
}
