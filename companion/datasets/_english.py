"""A frozen excerpt of English prose from the Python documentation (Chapter 13).

The text is 59828 characters of running prose (195 paragraphs, one per line) taken once from
CPython 3.11.7's ``pydoc_data.topics`` (the Python Language Reference and Library Reference
pages that ``help()`` shows) and stored here, so that it does not change with the Python
version and nothing is downloaded at run time. It was extracted with these rules: the topics
in :data:`_TOPICS` in that order; paragraphs split at blank lines; indented blocks (code,
grammar), headings, paragraphs shorter than 120 characters, paragraphs not ending with a
full stop, interactive examples and non-ASCII paragraphs dropped; the reST emphasis
asterisks removed; typographic quotes, dashes and ellipses mapped to ASCII; each paragraph's
lines joined with single spaces; duplicates dropped; stopped before 60,000 characters.
The alphabet is therefore printable ASCII plus the newline that ends each paragraph.

Licence: the Python documentation is Copyright (c) 2001-2023 Python Software Foundation, all
rights reserved, and is distributed under the PSF License Version 2, whose full text is
:data:`ENGLISH_LICENSE`. This module is a derivative work (an excerpt with the changes
listed above) used under that licence.
"""
from __future__ import annotations

import hashlib

__all__ = ["english_excerpt", "ENGLISH_LICENSE", "ENGLISH_SHA256"]

#: the ``pydoc_data.topics`` keys the paragraphs were taken from, in order
_TOPICS = ("objects", "execmodel", "exceptions", "import", "truth", "comparisons", "booleans",
           "calls", "assignment", "compound", "customization", "attribute-access", "types",
           "typesseq", "typesmapping", "specialnames", "string-methods", "formatstrings")

#: SHA-256 of the full excerpt (``english_excerpt()`` encoded as UTF-8)
ENGLISH_SHA256 = "a8cc0573c6292bff13d3c02f7b32f983d64d6186bf4d4e163f3a152dbeaa57d6"

#: the licence of the source text, verbatim from CPython's LICENSE file
ENGLISH_LICENSE = (
    "Copyright (c) 2001-2023 Python Software Foundation; All Rights Reserved.\n\n"
    'PYTHON SOFTWARE FOUNDATION LICENSE VERSION 2\n'
    '--------------------------------------------\n'
    '\n'
    '1. This LICENSE AGREEMENT is between the Python Software Foundation\n'
    '("PSF"), and the Individual or Organization ("Licensee") accessing and\n'
    'otherwise using this software ("Python") in source or binary form and\n'
    'its associated documentation.\n'
    '\n'
    '2. Subject to the terms and conditions of this License Agreement, PSF hereby\n'
    'grants Licensee a nonexclusive, royalty-free, world-wide license to reproduce,\n'
    'analyze, test, perform and/or display publicly, prepare derivative works,\n'
    'distribute, and otherwise use Python alone or in any derivative version,\n'
    "provided, however, that PSF's License Agreement and PSF's notice of copyright,\n"
    'i.e., "Copyright (c) 2001, 2002, 2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010,\n'
    '2011, 2012, 2013, 2014, 2015, 2016, 2017, 2018, 2019, 2020, 2021, 2022, 2023 Python Software Foundation;\n'
    'All Rights Reserved" are retained in Python alone or in any derivative version\n'
    'prepared by Licensee.\n'
    '\n'
    '3. In the event Licensee prepares a derivative work that is based on\n'
    'or incorporates Python or any part thereof, and wants to make\n'
    'the derivative work available to others as provided herein, then\n'
    'Licensee hereby agrees to include in any such work a brief summary of\n'
    'the changes made to Python.\n'
    '\n'
    '4. PSF is making Python available to Licensee on an "AS IS"\n'
    'basis.  PSF MAKES NO REPRESENTATIONS OR WARRANTIES, EXPRESS OR\n'
    'IMPLIED.  BY WAY OF EXAMPLE, BUT NOT LIMITATION, PSF MAKES NO AND\n'
    'DISCLAIMS ANY REPRESENTATION OR WARRANTY OF MERCHANTABILITY OR FITNESS\n'
    'FOR ANY PARTICULAR PURPOSE OR THAT THE USE OF PYTHON WILL NOT\n'
    'INFRINGE ANY THIRD PARTY RIGHTS.\n'
    '\n'
    '5. PSF SHALL NOT BE LIABLE TO LICENSEE OR ANY OTHER USERS OF PYTHON\n'
    'FOR ANY INCIDENTAL, SPECIAL, OR CONSEQUENTIAL DAMAGES OR LOSS AS\n'
    'A RESULT OF MODIFYING, DISTRIBUTING, OR OTHERWISE USING PYTHON,\n'
    'OR ANY DERIVATIVE THEREOF, EVEN IF ADVISED OF THE POSSIBILITY THEREOF.\n'
    '\n'
    '6. This License Agreement will automatically terminate upon a material\n'
    'breach of its terms and conditions.\n'
    '\n'
    '7. Nothing in this License Agreement shall be deemed to create any\n'
    'relationship of agency, partnership, or joint venture between PSF and\n'
    'Licensee.  This License Agreement does not grant permission to use PSF\n'
    'trademarks or trade name in a trademark sense to endorse or promote\n'
    'products or services of Licensee, or any third party.\n'
    '\n'
    '8. By copying, installing or otherwise using Python, Licensee\n'
    'agrees to be bound by the terms and conditions of this License\n'
    'Agreement.\n'
)

_PARAGRAPHS = (
    ("Every object has an identity, a type and a value. An object's identity never changes "
     "once it has been created; you may think of it as the object's address in memory. The "
     '\'"is"\' operator compares the identity of two objects; the "id()" function returns an '
     'integer representing its identity.'),
    ('The value of some objects can change. Objects whose value can change are said to be '
     'mutable; objects whose value is unchangeable once they are created are called immutable.'
     ' (The value of an immutable container object that contains a reference to a mutable '
     "object can change when the latter's value is changed; however the container is still "
     'considered immutable, because the collection of objects it contains cannot be changed. '
     'So, immutability is not strictly the same as having an unchangeable value, it is more '
     "subtle.) An object's mutability is determined by its type; for instance, numbers, "
     'strings and tuples are immutable, while dictionaries and lists are mutable.'),
    ('Objects are never explicitly destroyed; however, when they become unreachable they may '
     'be garbage-collected. An implementation is allowed to postpone garbage collection or '
     'omit it altogether -- it is a matter of implementation quality how garbage collection is'
     ' implemented, as long as no objects are collected that are still reachable.'),
    ('CPython implementation detail: CPython currently uses a reference-counting scheme with '
     '(optional) delayed detection of cyclically linked garbage, which collects most objects '
     'as soon as they become unreachable, but is not guaranteed to collect garbage containing '
     'circular references. See the documentation of the "gc" module for information on '
     'controlling the collection of cyclic garbage. Other implementations act differently and '
     'CPython may change. Do not depend on immediate finalization of objects when they become '
     'unreachable (so you should always close files explicitly).'),
    ("Note that the use of the implementation's tracing or debugging facilities may keep "
     'objects alive that would normally be collectable. Also note that catching an exception '
     'with a \'"try"..."except"\' statement may keep objects alive.'),
    ('Some objects contain references to "external" resources such as open files or windows. '
     'It is understood that these resources are freed when the object is garbage-collected, '
     'but since garbage collection is not guaranteed to happen, such objects also provide an '
     'explicit way to release the external resource, usually a "close()" method. Programs are '
     'strongly recommended to explicitly close such objects. The \'"try"..."finally"\' statement'
     ' and the \'"with"\' statement provide convenient ways to do this.'),
    ('Some objects contain references to other objects; these are called containers. Examples '
     'of containers are tuples, lists and dictionaries. The references are part of a '
     "container's value. In most cases, when we talk about the value of a container, we imply "
     'the values, not the identities of the contained objects; however, when we talk about the'
     ' mutability of a container, only the identities of the immediately contained objects are'
     ' implied. So, if an immutable container (like a tuple) contains a reference to a mutable'
     ' object, its value changes if that mutable object is changed.'),
    ('A Python program is constructed from code blocks. A block is a piece of Python program '
     'text that is executed as a unit. The following are blocks: a module, a function body, '
     'and a class definition. Each command typed interactively is a block. A script file (a '
     'file given as standard input to the interpreter or specified as a command line argument '
     'to the interpreter) is a code block. A script command (a command specified on the '
     'interpreter command line with the "-c" option) is a code block. A module run as a top '
     'level script (as module "__main__") from the command line using a "-m" argument is also '
     'a code block. The string argument passed to the built-in functions "eval()" and "exec()"'
     ' is a code block.'),
    ('A code block is executed in an execution frame. A frame contains some administrative '
     'information (used for debugging) and determines where and how execution continues after '
     "the code block's execution has completed."),
    ('The "import" statement of the form "from ... import *" binds all names defined in the '
     'imported module, except those beginning with an underscore. This form may only be used '
     'at the module level.'),
    ('A target occurring in a "del" statement is also considered bound for this purpose '
     '(though the actual semantics are to unbind the name).'),
    ('Each assignment or import statement occurs within a block defined by a class or function'
     ' definition or at the module level (the top-level code block).'),
    ('If a name is bound in a block, it is a local variable of that block, unless declared as '
     '"nonlocal" or "global". If a name is bound at the module level, it is a global variable.'
     ' (The variables of the module code block are local and global.) If a variable is used in'
     ' a code block but not defined there, it is a free variable.'),
    ('Each occurrence of a name in the program text refers to the binding of that name '
     'established by the following name resolution rules.'),
    ('A scope defines the visibility of a name within a block. If a local variable is defined '
     'in a block, its scope includes that block. If the definition occurs in a function block,'
     ' the scope extends to any blocks contained within the defining one, unless a contained '
     'block introduces a different binding for the name.'),
    ('When a name is used in a code block, it is resolved using the nearest enclosing scope. '
     "The set of all such scopes visible to a code block is called the block's environment."),
    ('When a name is not found at all, a "NameError" exception is raised. If the current scope'
     ' is a function scope, and the name refers to a local variable that has not yet been '
     'bound to a value at the point where the name is used, an "UnboundLocalError" exception '
     'is raised. "UnboundLocalError" is a subclass of "NameError".'),
    ('If a name binding operation occurs anywhere within a code block, all uses of the name '
     'within the block are treated as references to the current block. This can lead to errors'
     ' when a name is used within a block before it is bound. This rule is subtle. Python '
     'lacks declarations and allows name binding operations to occur anywhere within a code '
     'block. The local variables of a code block can be determined by scanning the entire text'
     ' of the block for name binding operations. See the FAQ entry on UnboundLocalError for '
     'examples.'),
    ('If the "global" statement occurs within a block, all uses of the names specified in the '
     'statement refer to the bindings of those names in the top-level namespace. Names are '
     'resolved in the top-level namespace by searching the global namespace, i.e. the '
     'namespace of the module containing the code block, and the builtins namespace, the '
     'namespace of the module "builtins". The global namespace is searched first. If the names'
     ' are not found there, the builtins namespace is searched. The "global" statement must '
     'precede all uses of the listed names.'),
    ('The "global" statement has the same scope as a name binding operation in the same block.'
     ' If the nearest enclosing scope for a free variable contains a global statement, the '
     'free variable is treated as a global.'),
    ('The "nonlocal" statement causes corresponding names to refer to previously bound '
     'variables in the nearest enclosing function scope. "SyntaxError" is raised at compile '
     'time if the given name does not exist in any enclosing function scope.'),
    ('The namespace for a module is automatically created the first time a module is imported.'
     ' The main module for a script is always called "__main__".'),
    ('CPython implementation detail: Users should not touch "__builtins__"; it is strictly an '
     'implementation detail. Users wanting to override values in the builtins namespace should'
     ' "import" the "builtins" module and modify its attributes appropriately.'),
    ('The builtins namespace associated with the execution of a code block is actually found '
     'by looking up the name "__builtins__" in its global namespace; this should be a '
     "dictionary or a module (in the latter case the module's dictionary is used). By default,"
     ' when in the "__main__" module, "__builtins__" is the built-in module "builtins"; when '
     'in any other module, "__builtins__" is an alias for the dictionary of the "builtins" '
     'module itself.'),
    ('The "eval()" and "exec()" functions do not have access to the full environment for '
     'resolving names. Names may be resolved in the local and global namespaces of the caller.'
     ' Free variables are not resolved in the nearest enclosing namespace, but in the global '
     'namespace. [1] The "exec()" and "eval()" functions have optional arguments to override '
     'the global and local namespace. If only one namespace is specified, it is used for both.'),
    ('Exceptions are a means of breaking out of the normal flow of control of a code block in '
     'order to handle errors or other exceptional conditions. An exception is raised at the '
     'point where the error is detected; it may be handled by the surrounding code block or by'
     ' any code block that directly or indirectly invoked the code block where the error '
     'occurred.'),
    ('The Python interpreter raises an exception when it detects a run-time error (such as '
     'division by zero). A Python program can also explicitly raise an exception with the '
     '"raise" statement. Exception handlers are specified with the "try" ... "except" '
     'statement. The "finally" clause of such a statement can be used to specify cleanup code '
     'which does not handle the exception, but is executed whether an exception occurred or '
     'not in the preceding code.'),
    ('Python uses the "termination" model of error handling: an exception handler can find out'
     ' what happened and continue execution at an outer level, but it cannot repair the cause '
     'of the error and retry the failing operation (except by re-entering the offending piece '
     'of code from the top).'),
    ('When an exception is not handled at all, the interpreter terminates execution of the '
     'program, or returns to its interactive main loop. In either case, it prints a stack '
     'traceback, except when the exception is "SystemExit".'),
    ('Exceptions are identified by class instances. The "except" clause is selected depending '
     'on the class of the instance: it must reference the class of the instance or a '
     'non-virtual base class thereof. The instance can be received by the handler and can '
     'carry additional information about the exceptional condition.'),
    ('See also the description of the "try" statement in section The try statement and "raise"'
     ' statement in section The raise statement.'),
    ('When the statement contains multiple clauses (separated by commas) the two steps are '
     'carried out separately for each clause, just as though the clauses had been separated '
     'out into individual import statements.'),
    ('The details of the first step, finding and loading modules, are described in greater '
     'detail in the section on the import system, which also describes the various types of '
     'packages and modules that can be imported, as well as all the hooks that can be used to '
     'customize the import system. Note that failures in this step may indicate either that '
     'the module could not be located, or that an error occurred while initializing the '
     "module, which includes execution of the module's code."),
    ('If the list of identifiers is replaced by a star ("\'*\'"), all public names defined in '
     'the module are bound in the local namespace for the scope where the "import" statement '
     'occurs.'),
    ("The public names defined by a module are determined by checking the module's namespace "
     'for a variable named "__all__"; if defined, it must be a sequence of strings which are '
     'names defined or imported by that module. The names given in "__all__" are all '
     'considered public and are required to exist. If "__all__" is not defined, the set of '
     "public names includes all names found in the module's namespace which do not begin with "
     'an underscore character ("\'_\'"). "__all__" should contain the entire public API. It is '
     'intended to avoid accidentally exporting items that are not part of the API (such as '
     'library modules which were imported and used within the module).'),
    ('The wild card form of import -- "from module import *" -- is only allowed at the module '
     'level. Attempting to use it in class or function definitions will raise a "SyntaxError".'),
    ('When specifying what module to import you do not have to specify the absolute name of '
     'the module. When a module or package is contained within another package it is possible '
     'to make a relative import within the same top package without having to mention the '
     'package name. By using leading dots in the specified module or package after "from" you '
     'can specify how high to traverse up the current package hierarchy without specifying '
     'exact names. One leading dot means the current package where the module making the '
     'import exists. Two dots means up one package level. Three dots is up two levels, etc. So'
     ' if you execute "from . import mod" from a module in the "pkg" package then you will end'
     ' up importing "pkg.mod". If you execute "from ..subpkg2 import mod" from within '
     '"pkg.subpkg1" you will import "pkg.subpkg2.mod". The specification for relative imports '
     'is contained in the Package Relative Imports section.'),
    ('A future statement is a directive to the compiler that a particular module should be '
     'compiled using syntax or semantics that will be available in a specified future release '
     'of Python where the feature becomes standard.'),
    ('The future statement is intended to ease migration to future versions of Python that '
     'introduce incompatible changes to the language. It allows use of the new features on a '
     'per-module basis before the release in which the feature becomes standard.'),
    ('All historical features enabled by the future statement are still recognized by Python '
     '3. The list includes "absolute_import", "division", "generators", "generator_stop", '
     '"unicode_literals", "print_function", "nested_scopes" and "with_statement". They are all'
     ' redundant because they are always enabled, and only kept for backwards compatibility.'),
    ('A future statement is recognized and treated specially at compile time: Changes to the '
     'semantics of core constructs are often implemented by generating different code. It may '
     'even be the case that a new feature introduces new incompatible syntax (such as a new '
     'reserved word), in which case the compiler may need to parse the module differently. '
     'Such decisions cannot be pushed off until runtime.'),
    ('For any given release, the compiler knows which feature names have been defined, and '
     'raises a compile-time error if a future statement contains a feature not known to it.'),
    ('The direct runtime semantics are the same as for any import statement: there is a '
     'standard module "__future__", described later, and it will be imported in the usual way '
     'at the time the future statement is executed.'),
    ('Code compiled by calls to the built-in functions "exec()" and "compile()" that occur in '
     'a module "M" containing a future statement will, by default, use the new syntax or '
     'semantics associated with the future statement. This can be controlled by optional '
     'arguments to "compile()" -- see the documentation of that function for details.'),
    ('A future statement typed at an interactive interpreter prompt will take effect for the '
     'rest of the interpreter session. If an interpreter is started with the "-i" option, is '
     'passed a script name to execute, and the script includes a future statement, it will be '
     'in effect in the interactive session started after the script is executed.'),
    ('Any object can be tested for truth value, for use in an "if" or "while" condition or as '
     'operand of the Boolean operations below.'),
    ('Comparisons yield boolean values: "True" or "False". Custom rich comparison methods may '
     'return non-boolean values. In this case Python will call "bool()" on such value in '
     'boolean contexts.'),
    ('Comparisons can be chained arbitrarily, e.g., "x < y <= z" is equivalent to "x < y and y'
     ' <= z", except that "y" is evaluated only once (but in both cases "z" is not evaluated '
     'at all when "x < y" is found to be false).'),
    ('Formally, if a, b, c, ..., y, z are expressions and op1, op2, ..., opN are comparison '
     'operators, then "a op1 b op2 c ... y opN z" is equivalent to "a op1 b and b op2 c and '
     '... y opN z", except that each expression is evaluated at most once.'),
    ('Note that "a op1 b op2 c" doesn\'t imply any kind of comparison between a and c, so that,'
     ' e.g., "x < y > z" is perfectly legal (though perhaps not pretty).'),
    ('The operators "<", ">", "==", ">=", "<=", and "!=" compare the values of two objects. '
     'The objects do not need to have the same type.'),
    ('Chapter Objects, values and types states that objects have a value (in addition to type '
     'and identity). The value of an object is a rather abstract notion in Python: For '
     "example, there is no canonical access method for an object's value. Also, there is no "
     'requirement that the value of an object should be constructed in a particular way, e.g. '
     'comprised of all its data attributes. Comparison operators implement a particular notion'
     ' of what the value of an object is. One can think of them as defining the value of an '
     'object indirectly, by means of their comparison implementation.'),
    ('Because all types are (direct or indirect) subtypes of "object", they inherit the '
     'default comparison behavior from "object". Types can customize their comparison behavior'
     ' by implementing rich comparison methods like "__lt__()", described in Basic '
     'customization.'),
    ('The default behavior for equality comparison ("==" and "!=") is based on the identity of'
     ' the objects. Hence, equality comparison of instances with the same identity results in '
     'equality, and equality comparison of instances with different identities results in '
     'inequality. A motivation for this default behavior is the desire that all objects should'
     ' be reflexive (i.e. "x is y" implies "x == y").'),
    ('A default order comparison ("<", ">", "<=", and ">=") is not provided; an attempt raises'
     ' "TypeError". A motivation for this default behavior is the lack of a similar invariant '
     'as for equality.'),
    ('The behavior of the default equality comparison, that instances with different '
     'identities are always unequal, may be in contrast to what types will need that have a '
     'sensible definition of object value and value-based equality. Such types will need to '
     'customize their comparison behavior, and in fact, a number of built-in types have done '
     'that.'),
    ('Python does not enforce these consistency rules. In fact, the not-a-number values are an'
     ' example for not following these rules.'),
    ('The operators "in" and "not in" test for membership. "x in s" evaluates to "True" if x '
     'is a member of s, and "False" otherwise. "x not in s" returns the negation of "x in s". '
     'All built-in sequences and set types support this as well as dictionary, for which "in" '
     'tests whether the dictionary has a given key. For container types such as list, tuple, '
     'set, frozenset, dict, or collections.deque, the expression "x in y" is equivalent to '
     '"any(x is e or x == e for e in y)".'),
    ('For the string and bytes types, "x in y" is "True" if and only if x is a substring of y.'
     ' An equivalent test is "y.find(x) != -1". Empty strings are always considered to be a '
     'substring of any other string, so """ in "abc"" will return "True".'),
    ('For user-defined classes which define the "__contains__()" method, "x in y" returns '
     '"True" if "y.__contains__(x)" returns a true value, and "False" otherwise.'),
    ('For user-defined classes which do not define "__contains__()" but do define '
     '"__iter__()", "x in y" is "True" if some value "z", for which the expression "x is z or '
     'x == z" is true, is produced while iterating over "y". If an exception is raised during '
     'the iteration, it is as if "in" raised that exception.'),
    ('Lastly, the old-style iteration protocol is tried: if a class defines "__getitem__()", '
     '"x in y" is "True" if and only if there is a non-negative integer index i such that "x '
     'is y[i] or x == y[i]", and no lower integer index raises the "IndexError" exception. (If'
     ' any other exception is raised, it is as if "in" raised that exception).'),
    ('In the context of Boolean operations, and also when expressions are used by control flow'
     ' statements, the following values are interpreted as false: "False", "None", numeric '
     'zero of all types, and empty strings and containers (including strings, tuples, lists, '
     'dictionaries, sets and frozensets). All other values are interpreted as true. '
     'User-defined objects can customize their truth value by providing a "__bool__()" method.'),
    ('The expression "x and y" first evaluates x; if x is false, its value is returned; '
     'otherwise, y is evaluated and the resulting value is returned.'),
    ('The expression "x or y" first evaluates x; if x is true, its value is returned; '
     'otherwise, y is evaluated and the resulting value is returned.'),
    ('The primary must evaluate to a callable object (user-defined functions, built-in '
     'functions, methods of built-in objects, class objects, methods of class instances, and '
     'all objects having a "__call__()" method are callable). All argument expressions are '
     'evaluated before the call is attempted. Please refer to section Function definitions for'
     ' the syntax of formal parameter lists.'),
    ('If keyword arguments are present, they are first converted to positional arguments, as '
     'follows. First, a list of unfilled slots is created for the formal parameters. If there '
     'are N positional arguments, they are placed in the first N slots. Next, for each keyword'
     ' argument, the identifier is used to determine the corresponding slot (if the identifier'
     ' is the same as the first formal parameter name, the first slot is used, and so on). If '
     'the slot is already filled, a "TypeError" exception is raised. Otherwise, the argument '
     'is placed in the slot, filling it (even if the expression is "None", it fills the slot).'
     ' When all arguments have been processed, the slots that are still unfilled are filled '
     'with the corresponding default value from the function definition. (Default values are '
     'calculated, once, when the function is defined; thus, a mutable object such as a list or'
     " dictionary used as default value will be shared by all calls that don't specify an "
     'argument value for the corresponding slot; this should usually be avoided.) If there are'
     ' any unfilled slots for which no default value is specified, a "TypeError" exception is '
     'raised. Otherwise, the list of filled slots is used as the argument list for the call.'),
    ('CPython implementation detail: An implementation may provide built-in functions whose '
     "positional parameters do not have names, even if they are 'named' for the purpose of "
     'documentation, and which therefore cannot be supplied by keyword. In CPython, this is '
     'the case for functions implemented in C that use "PyArg_ParseTuple()" to parse their '
     'arguments.'),
    ('If there are more positional arguments than there are formal parameter slots, a '
     '"TypeError" exception is raised, unless a formal parameter using the syntax '
     '"*identifier" is present; in this case, that formal parameter receives a tuple '
     'containing the excess positional arguments (or an empty tuple if there were no excess '
     'positional arguments).'),
    ('If any keyword argument does not correspond to a formal parameter name, a "TypeError" '
     'exception is raised, unless a formal parameter using the syntax "**identifier" is '
     'present; in this case, that formal parameter receives a dictionary containing the excess'
     ' keyword arguments (using the keywords as keys and the argument values as corresponding '
     'values), or a (new) empty dictionary if there were no excess keyword arguments.'),
    ('If the syntax "expression" appears in the function call, "expression" must evaluate to '
     'an iterable. Elements from these iterables are treated as if they were additional '
     'positional arguments. For the call "f(x1, x2, y, x3, x4)", if y evaluates to a sequence '
     'y1, ..., yM, this is equivalent to a call with M+4 positional arguments x1, x2, y1, ...,'
     ' yM, x3, x4.'),
    ('It is unusual for both keyword arguments and the "*expression" syntax to be used in the '
     'same call, so in practice this confusion does not often arise.'),
    ('If the syntax "expression" appears in the function call, "expression" must evaluate to a'
     ' mapping*, the contents of which are treated as additional keyword arguments. If a '
     'parameter matching a key has already been given a value (by an explicit keyword '
     'argument, or from another unpacking), a "TypeError" exception is raised.'),
    ('Formal parameters using the syntax "identifier" or "identifier" cannot be used as '
     'positional argument slots or as keyword argument names.'),
    ('Changed in version 3.5: Function calls accept any number of "" and "" unpackings, '
     'positional arguments may follow iterable unpackings (""), and keyword arguments may '
     'follow dictionary unpackings (""). Originally proposed by PEP 448.'),
    ('A call always returns some value, possibly "None", unless it raises an exception. How '
     'this value is computed depends on the type of the callable object.'),
    ('An assignment statement evaluates the expression list (remember that this can be a '
     'single expression or a comma-separated list, the latter yielding a tuple) and assigns '
     'the single resulting object to each of the target lists, from left to right.'),
    ('Assignment is defined recursively depending on the form of the target (list). When a '
     'target is part of a mutable object (an attribute reference, subscription or slicing), '
     'the mutable object must ultimately perform the assignment and decide about its validity,'
     ' and may raise an exception if the assignment is unacceptable. The rules observed by '
     'various types and the exceptions raised are given with the definition of the object '
     'types (see section The standard type hierarchy).'),
    ('Assignment of an object to a target list, optionally enclosed in parentheses or square '
     'brackets, is recursively defined as follows.'),
    ('CPython implementation detail: In the current implementation, the syntax for targets is '
     'taken to be the same as for expressions, and invalid syntax is rejected during the code '
     'generation phase, causing less detailed error messages.'),
    ('An augmented assignment evaluates the target (which, unlike normal assignment '
     'statements, cannot be an unpacking) and the expression list, performs the binary '
     'operation specific to the type of assignment on the two operands, and assigns the result'
     ' to the original target. The target is only evaluated once.'),
    ('An augmented assignment expression like "x += 1" can be rewritten as "x = x + 1" to '
     'achieve a similar, but not exactly equal effect. In the augmented version, "x" is only '
     'evaluated once. Also, when possible, the actual operation is performed in-place, meaning'
     ' that rather than creating a new object and assigning that to the target, the old object'
     ' is modified instead.'),
    ('Unlike normal assignments, augmented assignments evaluate the left-hand side before '
     'evaluating the right-hand side. For example, "a[i] += f(x)" first looks-up "a[i]", then '
     'it evaluates "f(x)" and performs the addition, and lastly, it writes the result back to '
     '"a[i]".'),
    ('With the exception of assigning to tuples and multiple targets in a single statement, '
     'the assignment done by augmented assignment statements is handled the same way as normal'
     ' assignments. Similarly, with the exception of the possible in-place behavior, the '
     'binary operation performed by augmented assignment is the same as the normal binary '
     'operations.'),
    ('For targets which are attribute references, the same caveat about class and instance '
     'attributes applies as for regular assignments.'),
    ('For simple names as assignment targets, if in class or module scope, the annotations are'
     ' evaluated and stored in a special class or module attribute "__annotations__" that is a'
     ' dictionary mapping from variable names (mangled if private) to evaluated annotations. '
     'This attribute is writable and is automatically created at the start of class or module '
     'body execution, if annotations are found statically.'),
    ('If a name is annotated in a function scope, then this name is local for that scope. '
     'Annotations are never evaluated and stored in function scopes.'),
    ('If the right hand side is present, an annotated assignment performs the actual '
     'assignment before evaluating annotations (where applicable). If the right hand side is '
     'not present for an expression target, then the interpreter evaluates the target except '
     'for the last "__setitem__()" or "__setattr__()" call.'),
    ('Changed in version 3.8: Now annotated assignments allow the same expressions in the '
     'right hand side as regular assignments. Previously, some expressions (like '
     'un-parenthesized tuple expressions) caused a syntax error.'),
    ('Compound statements contain (groups of) other statements; they affect or control the '
     'execution of those other statements in some way. In general, compound statements span '
     'multiple lines, although in simple incarnations a whole compound statement may be '
     'contained in one line.'),
    ('The "if", "while" and "for" statements implement traditional control flow constructs. '
     '"try" specifies exception handlers and/or cleanup code for a group of statements, while '
     'the "with" statement allows the execution of initialization and finalization code around'
     ' a block of code. Function and class definitions are also syntactically compound '
     'statements.'),
    ('Note that statements always end in a "NEWLINE" possibly followed by a "DEDENT". Also '
     'note that optional continuation clauses always begin with a keyword that cannot start a '
     'statement, thus there are no ambiguities (the \'dangling "else"\' problem is solved in '
     'Python by requiring nested "if" statements to be indented).'),
    ('It selects exactly one of the suites by evaluating the expressions one by one until one '
     'is found to be true (see section Boolean operations for the definition of true and '
     'false); then that suite is executed (and no other part of the "if" statement is executed'
     ' or evaluated). If all expressions are false, the suite of the "else" clause, if '
     'present, is executed.'),
    ('This repeatedly tests the expression and, if it is true, executes the first suite; if '
     'the expression is false (which may be the first time it is tested) the suite of the '
     '"else" clause, if present, is executed and the loop terminates.'),
    ('A "break" statement executed in the first suite terminates the loop without executing '
     'the "else" clause\'s suite. A "continue" statement executed in the first suite skips the '
     'rest of the suite and goes back to testing the expression.'),
    ('The "starred_list" expression is evaluated once; it should yield an iterable object. An '
     'iterator is created for that iterable. The first item provided by the iterator is then '
     'assigned to the target list using the standard rules for assignments (see Assignment '
     'statements), and the suite is executed. This repeats for each item provided by the '
     'iterator. When the iterator is exhausted, the suite in the "else" clause, if present, is'
     ' executed, and the loop terminates.'),
    ('A "break" statement executed in the first suite terminates the loop without executing '
     'the "else" clause\'s suite. A "continue" statement executed in the first suite skips the '
     'rest of the suite and continues with the next item, or with the "else" clause if there '
     'is no next item.'),
    ('Names in the target list are not deleted when the loop is finished, but if the sequence '
     'is empty, they will not have been assigned to at all by the loop. Hint: the built-in '
     'type "range()" represents immutable arithmetic sequences of integers. For instance, '
     'iterating "range(3)" successively yields 0, 1, and then 2.'),
    ('Additional information on exceptions can be found in section Exceptions, and information'
     ' on using the "raise" statement to generate exceptions may be found in section The raise'
     ' statement.'),
    ('The "except" clause(s) specify one or more exception handlers. When no exception occurs '
     'in the "try" clause, no exception handler is executed. When an exception occurs in the '
     '"try" suite, a search for an exception handler is started. This search inspects the '
     '"except" clauses in turn until one is found that matches the exception. An '
     'expression-less "except" clause, if present, must be last; it matches any exception. For'
     ' an "except" clause with an expression, that expression is evaluated, and the clause '
     'matches the exception if the resulting object is "compatible" with the exception. An '
     'object is compatible with an exception if the object is the class or a non-virtual base '
     'class of the exception object, or a tuple containing an item that is the class or a '
     'non-virtual base class of the exception object.'),
    ('If the evaluation of an expression in the header of an "except" clause raises an '
     'exception, the original search for a handler is canceled and a search starts for the new'
     ' exception in the surrounding code and on the call stack (it is treated as if the entire'
     ' "try" statement raised the exception).'),
    ('This means the exception must be assigned to a different name to be able to refer to it '
     'after the "except" clause. Exceptions are cleared because with the traceback attached to'
     ' them, they form a reference cycle with the stack frame, keeping all locals in that '
     'frame alive until the next garbage collection occurs.'),
    ('The "except" clause(s) are used for handling "ExceptionGroup"s. The exception type for '
     'matching is interpreted as in the case of "except", but in the case of exception groups '
     'we can have partial matches when the type matches some of the exceptions in the group. '
     'This means that multiple "except" clauses can execute, each handling part of the '
     'exception group. Each clause executes at most once and handles an exception group of all'
     ' matching exceptions. Each exception in the group is handled by at most one "except*" '
     'clause, the first that matches it.'),
    ('Any remaining exceptions that were not handled by any "except" clause are re-raised at '
     'the end, combined into an exception group along with all exceptions that were raised '
     'from within "except" clauses.'),
    ('From version 3.11.4, when the entire "ExceptionGroup" is handled and only one exception '
     'is raised from an "except*" clause, this exception is no longer wrapped to form a new '
     '"ExceptionGroup".'),
    ('If the raised exception is not an exception group and its type matches one of the '
     '"except*" clauses, it is caught and wrapped by an exception group with an empty message '
     'string.'),
    ('An "except" clause must have a matching type, and this type cannot be a subclass of '
     '"BaseExceptionGroup". It is not possible to mix "except" and "except" in the same "try".'
     ' "break", "continue" and "return" cannot appear in an "except*" clause.'),
    ('The optional "else" clause is executed if the control flow leaves the "try" suite, no '
     'exception was raised, and no "return", "continue", or "break" statement was executed. '
     'Exceptions in the "else" clause are not handled by the preceding "except" clauses.'),
    ('Changed in version 3.8: Prior to Python 3.8, a "continue" statement was illegal in the '
     '"finally" clause due to a problem with the implementation.'),
    ('The "with" statement is used to wrap the execution of a block with methods defined by a '
     'context manager (see section With Statement Context Managers). This allows common '
     '"try"..."except"..."finally" usage patterns to be encapsulated for convenient reuse.'),
    ('A "guard" (which is part of the "case") must succeed for code inside the "case" block to'
     ' execute. It takes the form: "if" followed by an expression.'),
    ('Guards are allowed to have side effects as they are expressions. Guard evaluation must '
     'proceed from the first to the last case block, one at a time, skipping case blocks whose'
     " pattern(s) don't all succeed. (I.e., guard evaluation must happen in order.) Guard "
     'evaluation must stop once a case block is selected.'),
    ('An irrefutable case block is a match-all case block. A match statement may have at most '
     'one irrefutable case block, and it must be last.'),
    ('The descriptions below will include a description "in simple terms" of what a pattern '
     'does for illustration purposes (credits to Raymond Hettinger for a document that '
     'inspired most of the descriptions). Note that these descriptions are purely for '
     'illustration purposes and may not reflect the underlying implementation. Furthermore, '
     'they do not cover all valid forms.'),
    ('An OR pattern matches each of its subpatterns in turn to the subject value, until one '
     'succeeds. The OR pattern is then considered successful. Otherwise, if none of the '
     'subpatterns succeed, the OR pattern fails.'),
    ('In simple terms, "P1 | P2 | ..." will try to match "P1", if it fails it will try to '
     'match "P2", succeeding immediately if any succeeds, failing otherwise.'),
    ('If the OR pattern fails, the AS pattern fails. Otherwise, the AS pattern binds the '
     'subject to the name on the right of the as keyword and succeeds. "capture_pattern" '
     'cannot be a "_".'),
    ('The rule "strings" and the token "NUMBER" are defined in the standard Python grammar. '
     'Triple-quoted strings are supported. Raw strings and byte strings are supported. '
     'Formatted string literals are not supported.'),
    ('The forms "signed_number \'+\' NUMBER" and "signed_number \'-\' NUMBER" are for expressing '
     'complex numbers; they require a real number on the left and an imaginary number on the '
     'right. E.g. "3 + 4j".'),
    ('In simple terms, "LITERAL" will succeed only if "<subject> == LITERAL". For the '
     'singletons "None", "True" and "False", the "is" operator is used.'),
    ('A single underscore "_" is not a capture pattern (this is what "!\'_\'" expresses). It is '
     'instead treated as a "wildcard_pattern".'),
    ('In a given pattern, a given name can only be bound once. E.g. "case x, x: ..." is '
     'invalid while "case [x] | x: ..." is allowed.'),
    ('Capture patterns always succeed. The binding follows scoping rules established by the '
     'assignment expression operator in PEP 572; the name becomes a local variable in the '
     'closest containing function scope unless there\'s an applicable "global" or "nonlocal" '
     'statement.'),
    ('The dotted name in the pattern is looked up using standard Python name resolution rules.'
     ' The pattern succeeds if the value found compares equal to the subject value (using the '
     '"==" equality operator).'),
    ('A sequence pattern contains several subpatterns to be matched against sequence elements.'
     ' The syntax is similar to the unpacking of a list or tuple.'),
    ('At most one star subpattern may be in a sequence pattern. The star subpattern may occur '
     'in any position. If no star subpattern is present, the sequence pattern is a '
     'fixed-length sequence pattern; otherwise it is a variable-length sequence pattern.'),
    ('At most one double star pattern may be in a mapping pattern. The double star pattern '
     'must be the last subpattern in the mapping pattern.'),
    ('Duplicate keys in mapping patterns are disallowed. Duplicate literal keys will raise a '
     '"SyntaxError". Two keys that otherwise have the same value will raise a "ValueError" at '
     'runtime.'),
    ('A function definition is an executable statement. Its execution binds the function name '
     'in the current local namespace to a function object (a wrapper around the executable '
     'code for the function). This function object contains a reference to the current global '
     'namespace as the global namespace to be used when the function is called.'),
    ('Changed in version 3.9: Functions may be decorated with any valid '
     '"assignment_expression". Previously, the grammar was much more restrictive; see PEP 614 '
     'for details.'),
    ('When one or more parameters have the form parameter "=" expression, the function is said'
     ' to have "default parameter values." For a parameter with a default value, the '
     "corresponding argument may be omitted from a call, in which case the parameter's default"
     ' value is substituted. If a parameter has a default value, all following parameters up '
     'until the ""*"" must also have a default value -- this is a syntactic restriction that '
     'is not expressed by the grammar.'),
    ('Function call semantics are described in more detail in section Calls. A function call '
     'always assigns values to all parameters mentioned in the parameter list, either from '
     'positional arguments, from keyword arguments, or from default values. If the form '
     '""identifier"" is present, it is initialized to a tuple receiving any excess positional '
     'parameters, defaulting to the empty tuple. If the form ""identifier"" is present, it is '
     'initialized to a new ordered mapping receiving any excess keyword arguments, defaulting '
     'to a new empty mapping of the same type. Parameters after """" or ""identifier"" are '
     'keyword-only parameters and may only be passed by keyword arguments. Parameters before '
     '""/"" are positional-only parameters and may only be passed by positional arguments.'),
    ('Changed in version 3.8: The "/" function parameter syntax may be used to indicate '
     'positional-only parameters. See PEP 570 for details.'),
    ('Parameters may have an annotation of the form "": expression"" following the parameter '
     'name. Any parameter may have an annotation, even those of the form "identifier" or '
     '"identifier". Functions may have "return" annotation of the form ""-> expression"" after'
     ' the parameter list. These annotations can be any valid Python expression. The presence '
     'of annotations does not change the semantics of a function. The annotation values are '
     "available as values of a dictionary keyed by the parameters' names in the "
     '"__annotations__" attribute of the function object. If the "annotations" import from '
     '"__future__" is used, annotations are preserved as strings at runtime which enables '
     'postponed evaluation. Otherwise, they are evaluated when the function definition is '
     'executed. In this case annotations may be evaluated in a different order than they '
     'appear in the source code.'),
    ('It is also possible to create anonymous functions (functions not bound to a name), for '
     'immediate use in expressions. This uses lambda expressions, described in section '
     'Lambdas. Note that the lambda expression is merely a shorthand for a simplified function'
     ' definition; a function defined in a ""def"" statement can be passed around or assigned '
     'to another name just like a function defined by a lambda expression. The ""def"" form is'
     ' actually more powerful since it allows the execution of multiple statements and '
     'annotations.'),
    ('Programmer\'s note: Functions are first-class objects. A ""def"" statement executed '
     'inside a function definition defines a local function that can be returned or passed '
     'around. Free variables used in the nested function can access the local variables of the'
     ' function containing the def. See section Naming and binding for details.'),
    ("The class's suite is then executed in a new execution frame (see Naming and binding), "
     'using a newly created local namespace and the original global namespace. (Usually, the '
     "suite contains mostly function definitions.) When the class's suite finishes execution, "
     'its execution frame is discarded but its local namespace is saved. [5] A class object is'
     ' then created using the inheritance list for the base classes and the saved local '
     'namespace for the attribute dictionary. The class name is bound to this class object in '
     'the original local namespace.'),
    ('The order in which attributes are defined in the class body is preserved in the new '
     'class\'s "__dict__". Note that this is reliable only right after the class is created and'
     ' only for classes that were defined using the definition syntax.'),
    ('The evaluation rules for the decorator expressions are the same as for function '
     'decorators. The result is then bound to the class name.'),
    ('Changed in version 3.9: Classes may be decorated with any valid "assignment_expression".'
     ' Previously, the grammar was much more restrictive; see PEP 614 for details.'),
    ("Programmer's note: Variables defined in the class definition are class attributes; they "
     'are shared by instances. Instance attributes can be set in a method with "self.name = '
     'value". Both class and instance attributes are accessible through the notation '
     '""self.name"", and an instance attribute hides a class attribute with the same name when'
     ' accessed in this way. Class attributes can be used as defaults for instance attributes,'
     ' but using mutable values there can lead to unexpected results. Descriptors can be used '
     'to create instance variables with different implementation details.'),
    ('Execution of Python coroutines can be suspended and resumed at many points (see '
     'coroutine). "await" expressions, "async for" and "async with" can only be used in the '
     'body of a coroutine function.'),
    ('Functions defined with "async def" syntax are always coroutine functions, even if they '
     'do not contain "await" or "async" keywords.'),
    ('Changed in version 3.7: "await" and "async" are now keywords; previously they were only '
     'treated as such inside the body of a coroutine function.'),
    ('An asynchronous iterable provides an "__aiter__" method that directly returns an '
     'asynchronous iterator, which can call asynchronous code in its "__anext__" method.'),
    ('The following methods can be defined to customize the meaning of attribute access (use '
     'of, assignment to, or deletion of "x.name") for class instances.'),
    ('Special names "__getattr__" and "__dir__" can be also used to customize access to module'
     ' attributes. The "__getattr__" function at the module level should accept one argument '
     'which is the name of an attribute and return the computed value or raise an '
     '"AttributeError". If an attribute is not found on a module object through the normal '
     'lookup, i.e. "object.__getattribute__()", then "__getattr__" is searched in the module '
     '"__dict__" before raising an "AttributeError". If found, it is called with the attribute'
     ' name and the result is returned.'),
    ('The "__dir__" function should accept no arguments, and return a sequence of strings that'
     ' represents the names accessible on module. If present, this function overrides the '
     'standard "dir()" search on a module.'),
    ('The following methods only apply when an instance of the class containing the method (a '
     'so-called descriptor class) appears in an owner class (the descriptor must be in either '
     "the owner's class dictionary or in the class dictionary for one of its parents). In the "
     'examples below, "the attribute" refers to the attribute whose name is the key of the '
     'property in the owner class\' "__dict__".'),
    ('The attribute "__objclass__" is interpreted by the "inspect" module as specifying the '
     'class where this object was defined (setting this appropriately can assist in runtime '
     'introspection of dynamic class attributes). For callables, it may indicate that an '
     'instance of the given type (or a subclass) is expected or required as the first '
     'positional argument (for example, CPython sets this attribute for unbound methods that '
     'are implemented in C).'),
    ('In general, a descriptor is an object attribute with "binding behavior", one whose '
     'attribute access has been overridden by methods in the descriptor protocol: "__get__()",'
     ' "__set__()", and "__delete__()". If any of those methods are defined for an object, it '
     'is said to be a descriptor.'),
    ('The default behavior for attribute access is to get, set, or delete the attribute from '
     'an object\'s dictionary. For instance, "a.x" has a lookup chain starting with '
     '"a.__dict__[\'x\']", then "type(a).__dict__[\'x\']", and continuing through the base classes'
     ' of "type(a)" excluding metaclasses.'),
    ('However, if the looked-up value is an object defining one of the descriptor methods, '
     'then Python may override the default behavior and invoke the descriptor method instead. '
     'Where this occurs in the precedence chain depends on which descriptor methods were '
     'defined and how they were called.'),
    ('For instance bindings, the precedence of descriptor invocation depends on which '
     'descriptor methods are defined. A descriptor can define any combination of "__get__()", '
     '"__set__()" and "__delete__()". If it does not define "__get__()", then accessing the '
     'attribute will return the descriptor object itself unless there is a value in the '
     'object\'s instance dictionary. If the descriptor defines "__set__()" and/or '
     '"__delete__()", it is a data descriptor; if it defines neither, it is a non-data '
     'descriptor. Normally, data descriptors define both "__get__()" and "__set__()", while '
     'non-data descriptors have just the "__get__()" method. Data descriptors with "__get__()"'
     ' and "__set__()" (and/or "__delete__()") defined always override a redefinition in an '
     'instance dictionary. In contrast, non-data descriptors can be overridden by instances.'),
    ('Python methods (including those decorated with "@staticmethod" and "@classmethod") are '
     'implemented as non-data descriptors. Accordingly, instances can redefine and override '
     'methods. This allows individual instances to acquire behaviors that differ from other '
     'instances of the same class.'),
    ('The "property()" function is implemented as a data descriptor. Accordingly, instances '
     'cannot override the behavior of a property.'),
    ('Below is a list of the types that are built into Python. Extension modules (written in '
     'C, Java, or other languages, depending on the implementation) can define additional '
     'types. Future versions of Python may add types to the type hierarchy (e.g., rational '
     'numbers, efficiently stored arrays of integers, etc.), although such additions will '
     'often be provided via the standard library instead.'),
    ("Some of the type descriptions below contain a paragraph listing 'special attributes.' "
     'These are attributes that provide access to the implementation and are not intended for '
     'general use. Their definition may change in the future.'),
    ('This type has a single value. There is a single object with this value. This object is '
     'accessed through the built-in name "None". It is used to signify the absence of a value '
     "in many situations, e.g., it is returned from functions that don't explicitly return "
     'anything. Its truth value is false.'),
    ('This type has a single value. There is a single object with this value. This object is '
     'accessed through the built-in name "NotImplemented". Numeric methods and rich comparison'
     ' methods should return this value if they do not implement the operation for the '
     'operands provided. (The interpreter will then try the reflected operation, or some other'
     ' fallback, depending on the operator.) It should not be evaluated in a boolean context.'),
    ('Changed in version 3.9: Evaluating "NotImplemented" in a boolean context is deprecated. '
     'While it currently evaluates as true, it will emit a "DeprecationWarning". It will raise'
     ' a "TypeError" in a future version of Python.'),
    ('This type has a single value. There is a single object with this value. This object is '
     'accessed through the literal "..." or the built-in name "Ellipsis". Its truth value is '
     'true.'),
    ('These are created by numeric literals and returned as results by arithmetic operators '
     'and arithmetic built-in functions. Numeric objects are immutable; once created their '
     'value never changes. Python numbers are of course strongly related to mathematical '
     'numbers, but subject to the limitations of numerical representation in computers.'),
    ('These represent machine-level double precision floating point numbers. You are at the '
     'mercy of the underlying machine architecture (and C or Java implementation) for the '
     'accepted range and handling of overflow. Python does not support single-precision '
     'floating point numbers; the savings in processor and memory usage that are usually the '
     'reason for using these are dwarfed by the overhead of using objects in Python, so there '
     'is no reason to complicate the language with two kinds of floating point numbers.'),
    ('These represent complex numbers as a pair of machine-level double precision floating '
     'point numbers. The same caveats apply as for floating point numbers. The real and '
     'imaginary parts of a complex number "z" can be retrieved through the read-only '
     'attributes "z.real" and "z.imag".'),
    ('These represent finite ordered sets indexed by non-negative numbers. The built-in '
     'function "len()" returns the number of items of a sequence. When the length of a '
     'sequence is n, the index set contains the numbers 0, 1, ..., n-1. Item i of sequence a '
     'is selected by "a[i]".'),
    ('Sequences also support slicing: "a[i:j]" selects all items with index k such that i "<="'
     ' k "<" j. When used as an expression, a slice is a sequence of the same type. This '
     'implies that the index set is renumbered so that it starts at 0.'),
    ('Some sequences also support "extended slicing" with a third "step" parameter: "a[i:j:k]"'
     ' selects all items of a with index x where "x = i + nk", n ">=" "0" and i "<=" x "<" j*.'),
    ('Mutable sequences can be changed after they are created. The subscription and slicing '
     'notations can be used as the target of assignment and "del" (delete) statements.'),
    ('These represent unordered, finite sets of unique, immutable objects. As such, they '
     'cannot be indexed by any subscript. However, they can be iterated over, and the built-in'
     ' function "len()" returns the number of items in a set. Common uses for sets are fast '
     'membership testing, removing duplicates from a sequence, and computing mathematical '
     'operations such as intersection, union, difference, and symmetric difference.'),
    ('For set elements, the same immutability rules apply as for dictionary keys. Note that '
     'numeric types obey the normal rules for numeric comparison: if two numbers compare equal'
     ' (e.g., "1" and "1.0"), only one of them can be contained in a set.'),
    ('These represent finite sets of objects indexed by arbitrary index sets. The subscript '
     'notation "a[k]" selects the item indexed by "k" from the mapping "a"; this can be used '
     'in expressions and as the target of assignments or "del" statements. The built-in '
     'function "len()" returns the number of items in a mapping.'),
    ('These represent finite sets of objects indexed by nearly arbitrary values. The only '
     'types of values not acceptable as keys are values containing lists or dictionaries or '
     'other mutable types that are compared by value rather than by object identity, the '
     "reason being that the efficient implementation of dictionaries requires a key's hash "
     'value to remain constant. Numeric types used for keys obey the normal rules for numeric '
     'comparison: if two numbers compare equal (e.g., "1" and "1.0") then they can be used '
     'interchangeably to index the same dictionary entry.'),
    ('Dictionaries preserve insertion order, meaning that keys will be produced in the same '
     'order they were added sequentially over the dictionary. Replacing an existing key does '
     'not change the order, however removing a key and re-inserting it will add it to the end '
     'instead of keeping its old place.'),
    ('The extension modules "dbm.ndbm" and "dbm.gnu" provide additional examples of mapping '
     'types, as does the "collections" module.'),
    ('Changed in version 3.7: Dictionaries did not preserve insertion order in versions of '
     'Python before 3.6. In CPython 3.6, insertion order was preserved, but it was considered '
     'an implementation detail at that time rather than a language guarantee.'),
    ('A user-defined function object is created by a function definition (see section Function'
     ' definitions). It should be called with an argument list containing the same number of '
     "items as the function's formal parameter list."),
    ('Function objects also support getting and setting arbitrary attributes, which can be '
     'used, for example, to attach metadata to functions. Regular attribute dot-notation is '
     'used to get and set such attributes. Note that the current implementation only supports '
     'function attributes on user-defined functions. Function attributes on built-in functions'
     ' may be supported in the future.'),
    ('A cell object has the attribute "cell_contents". This can be used to get the value of '
     'the cell, as well as set the value.'),
    ("Additional information about a function's definition can be retrieved from its code "
     'object; see the description of internal types below. The "cell" type can be accessed in '
     'the "types" module.'),
    ('An instance method object combines a class, a class instance and any callable object '
     '(normally a user-defined function).'),
    ('Special read-only attributes: "__self__" is the class instance object, "__func__" is the'
     ' function object; "__doc__" is the method\'s documentation (same as "__func__.__doc__"); '
     '"__name__" is the method name (same as "__func__.__name__"); "__module__" is the name of'
     ' the module the method was defined in, or "None" if unavailable.'),
    ('User-defined method objects may be created when getting an attribute of a class (perhaps'
     ' via an instance of that class), if that attribute is a user-defined function object or '
     'a class method object.'),
    ('When an instance method object is created by retrieving a user-defined function object '
     'from a class via one of its instances, its "__self__" attribute is the instance, and the'
     ' method object is said to be bound. The new method\'s "__func__" attribute is the '
     'original function object.'),
    ('When an instance method object is created by retrieving a class method object from a '
     'class or instance, its "__self__" attribute is the class itself, and its "__func__" '
     'attribute is the function object underlying the class method.'),
    ('When an instance method object is called, the underlying function ("__func__") is '
     'called, inserting the class instance ("__self__") in front of the argument list. For '
     'instance, when "C" is a class which contains a definition for a function "f()", and "x" '
     'is an instance of "C", calling "x.f(1)" is equivalent to calling "C.f(x, 1)".'),
    ('When an instance method object is derived from a class method object, the "class '
     'instance" stored in "__self__" will actually be the class itself, so that calling either'
     ' "x.f(1)" or "C.f(1)" is equivalent to calling "f(C,1)" where "f" is the underlying '
     'function.'),
    ('Note that the transformation from function object to instance method object happens each'
     ' time the attribute is retrieved from the instance. In some cases, a fruitful '
     'optimization is to assign the attribute to a local variable and call that local '
     'variable. Also notice that this transformation only happens for user-defined functions; '
     'other callable objects (and all non-callable objects) are retrieved without '
     'transformation. It is also important to note that user-defined functions which are '
     'attributes of a class instance are not converted to bound methods; this only happens '
     'when the function is an attribute of the class.'),
    ('A function or method which uses the "yield" statement (see section The yield statement) '
     'is called a generator function. Such a function, when called, always returns an iterator'
     " object which can be used to execute the body of the function: calling the iterator's "
     '"iterator.__next__()" method will cause the function to execute until it provides a '
     'value using the "yield" statement. When the function executes a "return" statement or '
     'falls off the end, a "StopIteration" exception is raised and the iterator will have '
     'reached the end of the set of values to be returned.'),
    ('A function or method which is defined using "async def" is called a coroutine function. '
     'Such a function, when called, returns a coroutine object. It may contain "await" '
     'expressions, as well as "async with" and "async for" statements. See also the Coroutine '
     'Objects section.'),
    ('A function or method which is defined using "async def" and which uses the "yield" '
     'statement is called a asynchronous generator function. Such a function, when called, '
     'returns an asynchronous iterator object which can be used in an "async for" statement to'
     ' execute the body of the function.'),
    ('Calling the asynchronous iterator\'s "aiterator.__anext__" method will return an '
     'awaitable which when awaited will execute until it provides a value using the "yield" '
     'expression. When the function executes an empty "return" statement or falls off the end,'
     ' a "StopAsyncIteration" exception is raised and the asynchronous iterator will have '
     'reached the end of the set of values to be yielded.'),
    ('A built-in function object is a wrapper around a C function. Examples of built-in '
     'functions are "len()" and "math.sin()" ("math" is a standard built-in module). The '
     'number and type of the arguments are determined by the C function. Special read-only '
     'attributes: "__doc__" is the function\'s documentation string, or "None" if unavailable; '
     '"__name__" is the function\'s name; "__self__" is set to "None" (but see the next item); '
     '"__module__" is the name of the module the function was defined in or "None" if '
     'unavailable.'),
    ('This is really a different disguise of a built-in function, this time containing an '
     'object passed to the C function as an implicit extra argument. An example of a built-in '
     'method is "alist.append()", assuming alist is a list object. In this case, the special '
     'read-only attribute "__self__" is set to the object denoted by alist.'),
    ('Classes are callable. These objects normally act as factories for new instances of '
     'themselves, but variations are possible for class types that override "__new__()". The '
     'arguments of the call are passed to "__new__()" and, in the typical case, to '
     '"__init__()" to initialize the new instance.'),
)


def english_excerpt(*, held_out=None):
    r"""The frozen English excerpt: about 60 kB of prose from the Python documentation.

    Args:
        held_out: ``None`` (default) for the whole text, or a fraction in ``(0, 1)``: the
            text is then split at a paragraph boundary and the last ``held_out`` of the
            paragraphs (at least one) form the held-out part.

    Returns:
        The text as a ``str`` (paragraphs separated and ended by ``"\n"``), or a pair
        ``(train, test)`` of such strings whose concatenation is the whole text.

    Raises:
        ValueError: ``held_out`` is not ``None`` and not a number in ``(0, 1)``.

    Example:
        >>> from companion.datasets import english_excerpt
        >>> text = english_excerpt()
        >>> len(text), text.isascii(), text.endswith(".\n")
        (59828, True, True)
        >>> train, test = english_excerpt(held_out=0.2)
        >>> train + test == text
        True

    See also:
        Chapter 13, language models: perplexity and tokenisation. The licence is
        :data:`ENGLISH_LICENSE`.
    """
    if held_out is None:
        return "".join(p + "\n" for p in _PARAGRAPHS)
    if isinstance(held_out, bool) or not isinstance(held_out, (int, float)) \
            or not 0.0 < held_out < 1.0:
        raise ValueError(f"held_out must be None or a number in (0, 1), got {held_out!r}")
    n_test = max(1, round(held_out * len(_PARAGRAPHS)))
    cut = len(_PARAGRAPHS) - n_test
    return ("".join(p + "\n" for p in _PARAGRAPHS[:cut]),
            "".join(p + "\n" for p in _PARAGRAPHS[cut:]))


def _sha256():
    return hashlib.sha256(english_excerpt().encode("utf-8")).hexdigest()
