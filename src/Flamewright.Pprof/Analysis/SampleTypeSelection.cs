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
        ValueType wanted = first.SampleTypes[firstIndex];
        var indexes = new int[profiles.Count];
        indexes[0] = firstIndex;
        for (int p = 1; p < profiles.Count; p++)
        {
            EnsureMergeable(first, profiles[p], p);
            indexes[p] = profiles[p].SampleTypes.IndexOf(wanted);
        }

        return indexes;
    }

    /// <summary>Throws unless <paramref name="other"/> has the same sample types as <paramref name="first"/>.</summary>
    public static void EnsureMergeable(Profile first, Profile other, int otherPosition)
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
                $"profile {otherPosition + 1} cannot be merged: its sample types [{Describe(b)}] differ from [{Describe(a)}]");
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
