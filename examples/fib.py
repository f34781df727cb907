"""A small example to try completions on: `slm-lsp complete examples/fib.py:12:5`."""


def fibonacci(n: int) -> int:
    """Return the n-th Fibonacci number."""
    a, b = 0, 1
    for _ in range(n):
        a, b = b, a + b
    return a


def main() -> None:
    
    print(fibonacci(10))


if __name__ == "__main__":
    main()
