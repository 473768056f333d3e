#!/usr/bin/env python3
from kt1.cli import main

if __name__ == "__main__":
    main()
