"""lifeline — an urban lifeline safety platform (water, power, gas).

The package follows one closed loop for every utility: sense → warn → locate → decide → act →
evaluate → review. See docs/ and DESIGN.md for the layout. Importing this package has no side
effects and imports no heavy libraries.
"""

__version__ = "0.1.0"
