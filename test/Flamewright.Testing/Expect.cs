using System.Diagnostics.CodeAnalysis;

namespace Flamewright.Testing;

/// <summary>
/// A step of the shared support that did not go as it must (the server did not answer, a process did not start). The
/// support throws it instead of a test framework's assertion, so benchmarks use the same helpers as tests; a test that
/// meets it fails with its message.
/// </summary>
public sealed class ExpectationException(string message) : Exception(message);

/// <summary>The checks the shared support makes on what it drives.</summary>
internal static class Expect
{
    public static void That([DoesNotReturnIf(false)] bool condition, string failure)
    {
        if (!condition)
        {
            Fail(failure);
        }
    }

    [DoesNotReturn]
    public static void Fail(string failure) => throw new ExpectationException(failure);
}
