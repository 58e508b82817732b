using Flamewright.Pprof.Model;
using ValueType = Flamewright.Pprof.Model.ValueType;

namespace Flamewright.Pprof.Analysis;

/// <summary>
/// Merges profiles of the same kind (several instances of a service) into one profile whose sample values add
/// up to the sum of the inputs. Functions, mappings and locations with the same content become one.
/// </summary>
public static class ProfileMerger
{
    /// <exception cref="PprofFormatException">The profiles have different sample or period types.</exception>
    public static Profile Merge(IReadOnlyList<Profile> profiles)
    {
        ArgumentNullException.ThrowIfNull(profiles);
        if (profiles.Count == 0)
        {
            throw new ArgumentException("at least one profile is needed", nameof(profiles));
        }

        Profile first = profiles[0];
        ValueType[] types = first.SampleTypes.ToArray();
        var builder = new ProfileBuilder(types)
        {
            PeriodType = first.PeriodType,
            DefaultSampleType = first.DefaultSampleType,
            DropFrames = first.DropFrames,
            KeepFrames = first.KeepFrames,
            DocUrl = first.DocUrl,
        };
        var comments = new HashSet<string>(StringComparer.Ordinal);
        for (int p = 0; p < profiles.Count; p++)
        {
            Profile profile = profiles[p];
            SampleTypeSelection.EnsureMergeable(first, profile, p);
            if (first.PeriodType is ValueType a && profile.PeriodType is ValueType b && a != b)
            {
                PprofFormatException.Throw($"profile {p + 1} cannot be merged: its period type {b} differs from {a}");
            }

            // As pprof merges: the earliest start, the summed duration, the largest period.
            if (profile.TimeNanos != 0 && (builder.TimeNanos == 0 || profile.TimeNanos < builder.TimeNanos))
            {
                builder.TimeNanos = profile.TimeNanos;
            }

            builder.DurationNanos += profile.DurationNanos;
            builder.Period = Math.Max(builder.Period, profile.Period);
            builder.PeriodType ??= profile.PeriodType;
            foreach (string comment in profile.Comments)
            {
                if (comments.Add(comment))
                {
                    builder.AddComment(comment);
                }
            }

            AddSamples(builder, profile, types);
        }

        return builder.Build();
    }

    private static void AddSamples(ProfileBuilder builder, Profile profile, ValueType[] types)
    {
        var mappings = new int[profile.Mappings.Length];
        for (int m = 0; m < mappings.Length; m++)
        {
            mappings[m] = builder.AddMapping(profile.Mappings[m]);
        }

        var functions = new int[profile.Functions.Length];
        for (int f = 0; f < functions.Length; f++)
        {
            Function function = profile.Functions[f];
            functions[f] = builder.AddFunction(function.Name, function.SystemName, function.FileName, function.StartLine);
        }

        var locations = new int[profile.Locations.Length];
        var lines = new List<Line>();
        for (int l = 0; l < locations.Length; l++)
        {
            Location location = profile.Locations[l];
            lines.Clear();
            foreach (Line line in profile.Lines.Slice(location.FirstLine, location.LineCount))
            {
                lines.Add(line with { FunctionIndex = line.FunctionIndex < 0 ? -1 : functions[line.FunctionIndex] });
            }

            locations[l] = builder.AddLocation(
                System.Runtime.InteropServices.CollectionsMarshal.AsSpan(lines),
                location.MappingIndex < 0 ? -1 : mappings[location.MappingIndex],
                location.Address,
                location.IsFolded);
        }

        // Values in the first profile's sample-type order.
        var order = new int[types.Length];
        for (int t = 0; t < types.Length; t++)
        {
            order[t] = profile.SampleTypes.IndexOf(types[t]);
        }

        // Each distinct stack is translated once, however many samples share it.
        var translated = new int[profile.StackCount][];
        var read = new GrowableArray<int>(64);
        ReadOnlySpan<int> sampleStacks = profile.SampleStacks;
        var values = new long[types.Length];
        for (int s = 0; s < profile.SampleCount; s++)
        {
            int stack = sampleStacks[s];
            if (translated[stack] is null)
            {
                read.Clear();
                profile.ReadStack(stack, ref read);
                int[] original = read.ToArray();
                for (int l = 0; l < original.Length; l++)
                {
                    original[l] = locations[original[l]];
                }

                translated[stack] = original;
            }

            ReadOnlySpan<long> sampleValues = profile.ValuesOf(s);
            for (int t = 0; t < order.Length; t++)
            {
                values[t] = sampleValues[order[t]];
            }

            builder.AddSample(translated[stack], values, profile.LabelsOf(s));
        }
    }
}
