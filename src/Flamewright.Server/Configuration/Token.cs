using System.Security.Cryptography;
using System.Text;

namespace Flamewright.Server.Configuration;

/// <summary>
/// A shared secret that callers present: the agent token, the API tokens. Kept only as its SHA-256 digest and
/// compared digest to digest in constant time, so that neither the time a comparison takes nor the length of
/// the secret tells a caller how close a guess came.
/// </summary>
internal sealed class Token
{
    private readonly byte[]? _digest;

    public Token(string value) => _digest = string.IsNullOrEmpty(value) ? null : SHA256.HashData(Encoding.UTF8.GetBytes(value));

    /// <summary>Whether a token is configured at all.</summary>
    public bool IsSet => _digest is not null;

    /// <summary>Whether <paramref name="presented"/> is this token; never true when none is set.</summary>
    public bool Matches(string? presented) =>
        _digest is not null && presented is not null
        && CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(presented)), _digest);
}
