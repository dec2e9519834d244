/* placeholder: the chat widget (issue 4) */
