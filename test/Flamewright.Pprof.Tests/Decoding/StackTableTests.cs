using Flamewright.Pprof.Model;
using Flamewright.Pprof.Tests.Support;

namespace Flamewright.Pprof.Tests.Decoding;

/// <summary>
/// The stack table interns with a fast hash that a crafted profile can flood, and then switches to a keyed one:
/// real profiles never make it switch, a flood always does, and the switch loses or duplicates no stack.
/// </summary>
public sealed class StackTableTests
{
    public static TheoryData<string> Profiles => ProfileCases.EveryProfile();

    [Theory(Timeout = Spec.Timeout)]
    [MemberData(nameof(Profiles))]
    public Task A_real_profiles_stacks_keep_the_fast_hash(string profile) => Spec.Run(() =>
    {
        (StackTable table, int[] indexes) = Interned(ProfileReader.ReadFile(TestData.Profile(profile)));

        Assert.False(table.UsesKeyedHash);
        Assert.Equal(Enumerable.Range(0, indexes.Length), indexes);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task A_million_distinct_stacks_of_Go_like_ids_keep_the_fast_hash() => Spec.Run(() =>
    {
        // As Go numbers them: locations 1..N, stacks 20 to 64 deep (the benchmark profile has 2 M such stacks).
        var random = new Random(11);
        var table = new StackTable(expectedStacks: 1_000_000);
        var stack = new ulong[64];
        for (int i = 0; i < 1_000_000; i++)
        {
            int depth = random.Next(20, 65);
            for (int f = 0; f < depth; f++)
            {
                stack[f] = (ulong)random.Next(1, 24_000);
            }

            table.InternIds(stack.AsSpan(0, depth));
        }

        Assert.False(table.UsesKeyedHash);
        Assert.Equal(1_000_000, table.Count);
    });

    [Fact(Timeout = Spec.Timeout)]
    public Task Stacks_crafted_to_collide_switch_it_to_the_keyed_hash_and_each_is_still_interned_once() => Spec.Run(() =>
    {
        Profile profile = ProfileReader.Read(HostileProfiles.Get("stacks that collide in the stack table").Bytes);
        Assert.Equal(HostileProfiles.CollidingStacks, profile.StackCount);

        (StackTable table, int[] indexes) = Interned(profile);
        int[] again = [.. Enumerable.Range(0, profile.StackCount).Select(s => table.InternIds(Ids(profile, s)))];

        Assert.True(table.UsesKeyedHash);
        Assert.Equal(Enumerable.Range(0, HostileProfiles.CollidingStacks), indexes);
        Assert.Equal(indexes, again);
        Assert.Equal(HostileProfiles.CollidingStacks, table.Count);
    });

    /// <summary>A new table with the profile's distinct stacks interned in order, and the index each got.</summary>
    private static (StackTable Table, int[] Indexes) Interned(Profile profile)
    {
        var table = new StackTable();
        int[] indexes = [.. Enumerable.Range(0, profile.StackCount).Select(s => table.InternIds(Ids(profile, s)))];
        return (table, indexes);
    }

    private static ulong[] Ids(Profile profile, int stack) => [.. profile.GetStack(stack).ToArray().Select(l => profile.Locations[l].Id)];
}
