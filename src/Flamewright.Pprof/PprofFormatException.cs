using System.Diagnostics.CodeAnalysis;

namespace Flamewright.Pprof;

/// <summary>
/// The one exception the engine throws for input it cannot accept: a corrupt, hostile or incompatible
/// profile. <see cref="Exception.Message"/> is a single line that says what is wrong and where.
/// </summary>
public sealed class PprofFormatException : Exception
{
    public PprofFormatException(string message)
        : base(message)
    {
    }

    public PprofFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public PprofFormatException()
        : base("invalid profile")
    {
    }

    [DoesNotReturn]
    internal static void Throw(string message) => throw new PprofFormatException(message);

    [DoesNotReturn]
    internal static T Throw<T>(string message) => throw new PprofFormatException(message);
}
