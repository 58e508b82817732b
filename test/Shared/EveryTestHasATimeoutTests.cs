using System.Reflection;
using System.Runtime.CompilerServices;

namespace Flamewright.Tests.Shared;

/// <summary>Compiled into every test project (test/Directory.Build.props): each checks its own assembly.</summary>
public sealed class EveryTestHasATimeoutTests
{
    [Fact(Timeout = 60_000)]
    public Task Every_fact_and_theory_in_this_project_has_a_timeout_and_returns_a_task() => Task.Run(() =>
    {
        var tests = typeof(EveryTestHasATimeoutTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly))
            .Select(m => (Method: m, Fact: m.GetCustomAttribute<FactAttribute>()))
            .Where(t => t.Fact is not null)
            .ToList();

        Assert.True(tests.Count > 1, "no tests found besides this one");
        Assert.All(tests, t =>
        {
            Assert.True(t.Fact!.Timeout > 0, $"{t.Method.DeclaringType!.Name}.{t.Method.Name} has no timeout");
            Assert.True(typeof(Task).IsAssignableFrom(t.Method.ReturnType), $"{t.Method.DeclaringType!.Name}.{t.Method.Name} must return a Task for xUnit to enforce its timeout");
        });
    });

    [Fact(Timeout = 60_000)]
    public Task No_test_code_in_this_project_is_async_void() => Task.Run(() =>
    {
        // An async lambda given to a method that takes an Action becomes async void: the test "passes" as soon
        // as the lambda first awaits, whatever happens after. Lambdas live in compiler-generated classes, so
        // every method of every type is looked at.
        const BindingFlags All = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;
        string[] asyncVoid = [.. typeof(EveryTestHasATimeoutTests).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(All))
            .Where(m => m.ReturnType == typeof(void) && m.GetCustomAttribute<AsyncStateMachineAttribute>() is not null)
            .Select(m => $"{m.DeclaringType!.FullName}.{m.Name}")];

        Assert.True(asyncVoid.Length == 0, "async void methods or lambdas (give Spec.Run a Func<Task>):\n" + string.Join("\n", asyncVoid));
    });
}
