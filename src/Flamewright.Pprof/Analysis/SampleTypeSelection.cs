using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>Picks the sample type to analyse in each of several profiles, and refuses profiles that don't merge.</summary>
public static class SampleTypeSelection
{
    /// <summary>
    /// Resolves <paramref name="nameOrIndex"/> in the first profile and finds the same type (by type and unit)
    /// in the others. Profiles merge only when they have the same set of sample types.
    /// </summary>
    /// <returns>The sample type index to use in each profile.</returns>
    public static int[] Resolve(IReadOnlyList<Profile> profiles, string? nameOrIndex)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.Count == 0)
        {
            throw new ArgumentException("at least one profile is needed", nameof(profiles));
        }

        Profile first = profiles[0];
        int firstIndex = first.ResolveSampleType(nameOrIndex);
        return IndexesOf(first.SampleTypes[firstIndex], first, profiles, "profile", "merged");
    }

    /// <summary>Throws unless <paramref name="other"/> has the same sample types as <paramref name="first"/>.</summary>
    public static void EnsureMergeable(Profile first, Profile other, int otherPosition) =>
        EnsureSameTypes(first, other, "profile", otherPosition, "merged");

    /// <summary>
    /// The index of <paramref name="wanted"/> in each of <paramref name="profiles"/>, after checking that each has
    /// the sample types of <paramref name="reference"/>; a refusal names the profile as
    /// "<paramref name="label"/> N cannot be <paramref name="verb"/>".
    /// </summary>
    internal static int[] IndexesOf(ValueType wanted, Profile reference, IReadOnlyList<Profile> profiles, string label, string verb)
    {
        var indexes = new int[profiles.Count];
        for (int p = 0; p < profiles.Count; p++)
        {
            EnsureSameTypes(reference, profiles[p], label, p, verb);
            indexes[p] = profiles[p].SampleTypes.IndexOf(wanted);
        }

        return indexes;
    }

    private static void EnsureSameTypes(Profile first, Profile other, string label, int otherPosition, string verb)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(other);
        ReadOnlySpan<ValueType> a = first.SampleTypes, b = other.SampleTypes;
        bool same = a.Length == b.Length;
        for (int i = 0; same && i < a.Length; i++)
        {
            same = b.Contains(a[i]);
        }

        if (!same)
        {
            PprofFormatException.Throw(
                $"{label} {otherPosition + 1} cannot be {verb}: its sample types [{Describe(b)}] differ from [{Describe(a)}]");
        }
    }

    internal static string Describe(ReadOnlySpan<ValueType> types)
    {
        var parts = new string[types.Length];
        for (int i = 0; i < types.Length; i++)
        {
            parts[i] = types[i].ToString();
        }

        return string.Join(", ", parts);
    }
}
