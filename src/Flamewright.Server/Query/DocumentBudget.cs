using GraphQLParser.AST;

namespace Flamewright.Server.Query;

/// <summary>
/// The size of a GraphQL document, measured before GraphQL.NET validates it: the selections as written, and
/// the selections the document expands to once every fragment spread is replaced by its fragment.
/// </summary>
/// <remarks>
/// GraphQL.NET's own rules walk the expanded document, and some walk it pairwise (fields that must merge are
/// compared two by two), so their time grows with the expansion, which doubles with each fragment that spreads
/// the previous one twice, and with the square of repeated fields. Its complexity rule reports the size only
/// after walking all of it. This count is linear in the written document: each fragment's expanded size is
/// computed once and remembered, and every sum stops growing at the limit, so a 1 KB document that expands to
/// 2^29 fields is measured, and refused, in microseconds. See docs/security.md.
/// </remarks>
internal static class DocumentBudget
{
    /// <summary>
    /// Why the document is refused, or <c>null</c> when it fits: at most <paramref name="maxWritten"/> fields,
    /// fragment spreads and inline fragments as written, at most <paramref name="maxExpanded"/> once fragments
    /// are expanded, and no fragment that spreads itself.
    /// </summary>
    public static string? Check(GraphQLDocument document, int maxWritten, int maxExpanded)
    {
        var fragments = new Dictionary<string, GraphQLFragmentDefinition>(StringComparer.Ordinal);
        long written = 0;
        foreach (ASTNode definition in document.Definitions)
        {
            if (definition is GraphQLFragmentDefinition fragment)
            {
                fragments.TryAdd(fragment.FragmentName.Name.StringValue, fragment);
            }

            if (definition is IHasSelectionSetNode { SelectionSet: { } set })
            {
                written += Written(set);
            }
        }

        if (written > maxWritten)
        {
            return $"the query has {written} selections (fields, fragment spreads and inline fragments); at most {maxWritten} are accepted (GraphQLMaxFields)";
        }

        var expansion = new Expansion(fragments, maxExpanded);
        foreach (ASTNode definition in document.Definitions)
        {
            if (definition is GraphQLOperationDefinition operation)
            {
                long expanded = expansion.Size(operation.SelectionSet);
                if (expansion.Cycle is { } cycle)
                {
                    return $"fragment '{cycle}' spreads itself";
                }

                if (expanded > maxExpanded)
                {
                    return $"the query expands to more than {maxExpanded} selections once its fragments are spread (GraphQLMaxExpandedFields)";
                }
            }
        }

        return null;
    }

    /// <summary>Selections as written: a walk of the tree, which the parser's depth limit bounds.</summary>
    private static long Written(GraphQLSelectionSet set)
    {
        long count = 0;
        foreach (ASTNode selection in set.Selections)
        {
            count++;
            if (selection is IHasSelectionSetNode { SelectionSet: { } inner })
            {
                count += Written(inner);
            }
        }

        return count;
    }

    /// <summary>Expanded sizes, each fragment's computed once; every sum saturates just above the limit.</summary>
    private sealed class Expansion(Dictionary<string, GraphQLFragmentDefinition> fragments, int limit)
    {
        private readonly Dictionary<string, long> _sizes = new(StringComparer.Ordinal);
        private readonly HashSet<string> _open = new(StringComparer.Ordinal);

        /// <summary>A fragment found spreading itself, directly or through others.</summary>
        public string? Cycle { get; private set; }

        public long Size(GraphQLSelectionSet set)
        {
            long count = 0;
            foreach (ASTNode selection in set.Selections)
            {
                count = Add(count, selection switch
                {
                    GraphQLField { SelectionSet: { } inner } => Add(1, Size(inner)),
                    GraphQLField => 1,
                    GraphQLInlineFragment inline => Add(1, Size(inline.SelectionSet)),
                    GraphQLFragmentSpread spread => Add(1, Fragment(spread.FragmentName.Name.StringValue)),
                    _ => 1,
                });
                if (count > limit || Cycle is not null)
                {
                    break;
                }
            }

            return count;
        }

        private long Fragment(string name)
        {
            if (_sizes.TryGetValue(name, out long known))
            {
                return known;
            }

            if (!fragments.TryGetValue(name, out GraphQLFragmentDefinition? fragment))
            {
                // An unknown fragment: GraphQL.NET's validation names it.
                return 0;
            }

            if (!_open.Add(name))
            {
                Cycle ??= name;
                return 0;
            }

            long size = Size(fragment.SelectionSet);
            _open.Remove(name);
            _sizes[name] = size;
            return size;
        }

        private long Add(long a, long b) => Math.Min(a + b, (long)limit + 1);
    }
}
